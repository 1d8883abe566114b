"""The Azure Functions entry point, exercised without the Functions host (not installable here):
registration metadata from ``app.get_functions()``, the trigger called with real
``azure.functions.servicebus.ServiceBusMessage`` objects, and the masking of its logs."""

from __future__ import annotations

import asyncio
import importlib.util
import io
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.functions.servicebus import ServiceBusMessage

from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_notify import function
from support import stored_event

FUNCTION_APP = Path(__file__).parents[3] / "functions" / "notify" / "function_app.py"


def load_function_app():
    spec = importlib.util.spec_from_file_location("function_app", FUNCTION_APP)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["function_app"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def record_factory() -> Iterator[None]:
    """Loading function_app.py masks every log record the process makes: undone after the test."""
    made = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(made)


def test_the_app_registers_one_service_bus_trigger_with_an_identity_connection() -> None:
    [registered] = load_function_app().app.get_functions()
    [binding] = [b.get_dict_repr() for b in registered.get_bindings()]
    assert registered.get_function_name() == "notify_sales_team"
    assert binding["type"] == "serviceBusTrigger"
    assert binding["queueName"] == "%SERVICEBUS_QUEUE%"
    assert binding["connection"] == "ServiceBusConnection"


@pytest.fixture
def function_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INTAKE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(function._Clients, "opened", None)
    monkeypatch.setattr(function._Clients, "_opening", asyncio.Lock())
    return tmp_path


async def _close_the_functions_store() -> None:
    assert function._Clients.opened is not None
    _, store, _ = function._Clients.opened
    await store.close()


async def test_concurrent_first_invocations_open_one_store(
    function_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[object] = []
    open_store = function.open_store

    async def counted(settings: object) -> object:
        await asyncio.sleep(0.01)  # a real store's open waits on I/O: the others get in here
        store = await open_store(settings)  # type: ignore[arg-type]
        opened.append(store)
        return store

    monkeypatch.setattr(function, "open_store", counted)
    clients = await asyncio.gather(*(function._Clients.get() for _ in range(5)))
    assert len(opened) == 1
    assert all(got is clients[0] for got in clients)
    await _close_the_functions_store()


async def test_trigger_sends_once_per_event_even_when_redelivered(
    function_environment: Path,
) -> None:
    store = SqliteSubmissionStore(function_environment / "intake.db")
    await store.open()
    event = await stored_event(store)
    await store.close()
    trigger = function.notify_sales_team.build().get_user_function()
    for delivery_count in (1, 2):
        await trigger(
            ServiceBusMessage(
                body=event.to_json().encode(),
                message_id=event.id,
                delivery_count=delivery_count,
                application_properties={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"},
                user_properties={},
            )
        )
    assert len(list((function_environment / "mail").glob("*.eml"))) == 1
    await _close_the_functions_store()


async def test_trigger_fails_poison_messages_so_service_bus_dead_letters_them(
    function_environment: Path,
) -> None:
    trigger = function.notify_sales_team.build().get_user_function()
    with pytest.raises(function.PoisonMessage, match="MalformedEvent"):
        await trigger(
            ServiceBusMessage(
                body=b"not json",
                message_id="m-1",
                delivery_count=1,
                application_properties={},
                user_properties={},
            )
        )
    assert not (function_environment / "mail").exists()
    await _close_the_functions_store()


def test_the_function_logs_masked_through_the_hosts_own_handler() -> None:
    """The Functions worker puts its handler on the root logger, with the default formatter, and
    sends what it writes to the host, which keeps it in Application Insights. Loading the app
    leaves that handler in place, and what it writes is masked, message and exception alike."""
    written = io.StringIO()
    host = logging.StreamHandler(written)
    root = logging.getLogger()
    root.addHandler(host)
    try:
        load_function_app()
        load_function_app()  # the worker may load it again: one mask, not two
        try:
            raise ValueError("no contact ada@example.com")
        except ValueError:
            logging.getLogger("intake_notify.function").exception(
                "mail to %s failed, phone %s", "ada@example.com", "+44 20 7946 0958"
            )
        assert host in root.handlers
    finally:
        root.removeHandler(host)
    text = written.getvalue()
    assert "mail to a***@example.com failed, phone +44********58" in text
    assert "ValueError: no contact a***@example.com" in text
    assert "ada@" not in text and "7946" not in text
