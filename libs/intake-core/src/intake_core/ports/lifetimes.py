"""How long the store and the queue keep what expires: personal data kept no longer than its
use, and each lifetime the same as the one Cosmos DB's TTL or the Bicep gives it in Azure."""

# How long an outbox event is kept once published (its payload repeats the contact details,
# see docs/privacy.md): Cosmos DB expires it by ``ttl``; the embedded store is purged of it
# (:meth:`Outbox.purge_expired`, in :mod:`intake_core.ports.outbox`).
PUBLISHED_EVENT_TTL_SECONDS = 7 * 24 * 3600
# How long an Idempotency-Key is remembered after its first use (its fingerprint could confirm a
# guessed body, see docs/privacy.md); the same as ``idempotencyTtlDays`` in infra/bicep/main.bicep,
# the idempotency container's TTL. Cosmos DB expires the key; the embedded store is purged of it.
# A retry after that is a new submission.
IDEMPOTENCY_KEY_TTL_SECONDS = 7 * 24 * 3600
# How long the notify ledger remembers a handled event; the same as ``ledgerTtlDays`` in
# infra/bicep/main.bicep. Cosmos DB expires the entry; the embedded ledger is purged of it
# (:meth:`NotifyLedger.purge_expired_ledger`, in :mod:`intake_core.ports.ledger`). Safe, since no
# message comes back that late: Service Bus drops one 14 days after it was sent (the queue's
# message TTL in the Bicep), and the local queue redelivers within its lock (an hour at most) and
# at most 100 times. (A dead letter replayed by hand after 30 days could be emailed again, as in
# Cosmos DB.)
LEDGER_TTL_SECONDS = 30 * 24 * 3600
# How old a dead letter may grow before it is purged (``intake dlq purge``, and the retention job
# after its erasures), counted from its event's time, the submission's: the ledger's lifetime.
# Its event was handled, if ever, after that time, so while it may be replayed its ledger entry
# is still there and a replay cannot email twice; and Service Bus keeps dead letters for ever,
# with the body's contact details. Also the most a purge may be told to keep them.
DEAD_LETTER_MAX_AGE_DAYS = LEDGER_TTL_SECONDS // (24 * 3600)
