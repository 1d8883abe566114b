"""Ports: what the services need from the outside world, independent of Azure or SQLite.

Every port has an embedded adapter (runs on a laptop) and an Azure adapter (production).
The contract tests in ``tests/contract`` run one suite per port against every adapter.

Each module is the home of its names; import them from there, not from this package:

- ``store``: :class:`~intake_core.ports.store.SubmissionStore`, the whole store, built from its
  roles (what the adapters implement and ``bootstrap.open_store`` returns), and
  ``StoreUnavailable``. Each caller types the store by the role it uses:
- ``intake``: ``ClientSubmissionStore`` (intake-api's routes) and ``IntakeStore`` (that with
  the ``Outbox``: what intake-api holds);
- ``outbox``: ``Outbox`` (intake-api's relay and fast path);
- ``ledger``: ``NotifyLedger`` (the notifier);
- ``staff``: ``StaffSubmissionStore`` (admin-api, erasure, retention, restore);
- ``lifetimes``: how long the store and the queue keep what expires;
- ``queue``, ``mail``, ``cache``: the event bus, the mailer, the read cache.
"""
