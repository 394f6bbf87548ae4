"""Fan-out benchmark: a million recipients in 20 segments through the SendGrid backend.

    python benchmarks/fanout.py [--subscribers 1000000] [--segments 20] [--sample 300]
        [--latency-ms 250] [--workers 1,2,3] [--concurrency 16] [--database-url URL]

Builds a store of ``--subscribers`` readers spread over ``--segments`` lists (by SQL, not
timed): on PostgreSQL when ``--database-url`` or ``DIGEST_TEST_DATABASE_URL`` names one (in
a schema of its own, dropped at the end; `digest worker` is for PostgreSQL), else SQLite.
It times ``run_segments`` — compose, render once, record the ledger, send every batch —
for all segments against a SendGrid stand-in running in another process, which answers
each request after ``--latency-ms``, as a real API may. Then, for each count in
``--workers``, it starts that many `digest worker` processes (``--concurrency`` requests in
flight each), records a fresh edition of every segment with ``send = "workers"`` while
they wait, and times the recording, then the workers' sending of every edition. Last, on
``--sample`` readers of the first segment, it times the per-recipient way most tools send:
render the email for each reader (Jinja2 + MJML) and make one API call per reader, to the
same stand-in; ``ratio`` is each way's recipients per second over that one's. The last line
printed is one JSON object.

With ``--processes`` above 1 (the default: one per core) the run's worker processes
send the large editions while this process records the next one. ``peak_rss_mb`` is the
larger of this process's peak resident memory (``main_peak_rss_mb``: start-up, building
the store, the timed send and the baseline sample) and the largest worker's
(``workers_peak_rss_mb``); ``rss_before_send_mb`` is this process's reading just before
the timed send; ``cpu_seconds`` and ``workers_cpu_seconds`` are the CPU time of this
process and of the workers during the send. A `digest worker` trial reports the largest
worker's peak memory and the workers' CPU time. The stand-in is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sendgrid import SendGridAPIClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fanout_world import (
    RemoteStandIn,
    add_news,
    build_store,
    postgres_schema,
    segment_name,
    sqlite_url,
    standin_process,
    worker_processes,
    write_config,
)
from sqlalchemy import func, select

from digest.compose.edition import Draft, compose
from digest.config import Config, load_config
from digest.deliver.batches import outgoing_for
from digest.deliver.links import signer
from digest.deliver.message import Outgoing, Recipient, personalise
from digest.deliver.sendgrid import request_json
from digest.render.email import Identity, Rendered, render
from digest.run.delivery import delivery_settings
from digest.run.segments import run_segments
from digest.store.database import Store, open_store
from digest.store.models import Edition, EditionStatus
from subscribers.models import Subscriber


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def workers_peak_rss_mb() -> float:
    """The largest peak of the child processes that have ended (the send workers: the
    stand-in is still running when this is read)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def baseline(
    store: Store, config: Config, draft: Draft, standin: RemoteStandIn, sample: int
) -> float:
    """Seconds to render and send ``sample`` emails one reader at a time."""
    identity = Identity(config.sender.name, config.sender.postal_address, config.zone)
    tokens = signer(store)
    base = config.sender.base_url.rstrip("/")
    with store.session() as session:
        readers = list(session.query(Subscriber).order_by(Subscriber.id).limit(sample))
        edition = session.query(Edition).order_by(Edition.id).first()
        assert edition is not None
        template = outgoing_for(delivery_settings(config), edition)
    client = SendGridAPIClient(os.environ["SENDGRID_API_KEY"], host=standin.url)
    client.client.timeout = 60
    began = time.perf_counter()
    for reader in readers:
        token = tokens.token(reader.id, draft.segment.name)
        recipient = Recipient(
            delivery_id=reader.id,
            email=reader.email,
            name=reader.name,
            unsubscribe_url=f"{base}/unsubscribe/{token}",
            preferences_url=f"{base}/preferences/{token}",
            unsubscribe_mailto=f"mailto:unsubscribe@desk.example?subject=unsubscribe%20{token}",
        )
        rendered = render(draft, identity)  # Jinja2 then MJML, for this one reader
        personal = Rendered(
            rendered.subject,
            rendered.preheader,
            personalise(rendered, recipient, "html"),
            personalise(rendered, recipient, "text"),
            (),
        )
        outgoing = Outgoing(
            template.edition_id,
            template.segment,
            personal,
            template.from_name,
            template.from_email,
            template.reply_to,
            template.list_id,
        )
        response = client.send(json.loads(request_json(outgoing, [recipient], 0)))
        assert response.status_code == 202
    return time.perf_counter() - began


def workers_trial(
    store: Store,
    folder: Path,
    args: argparse.Namespace,
    database_url: str,
    standin: RemoteStandIn,
    count: int,
    now: datetime,
) -> dict[str, object]:
    """``count`` `digest worker` processes send a fresh edition of every segment, recorded
    by this process with ``send = "workers"`` while they are paused (SIGSTOP) on their
    LISTEN: the recording's seconds, then the sending's, from their SIGCONT until every
    edition is sent. Sending and recording would otherwise share the two cores, and
    neither figure would be the one asked for: how fast workers empty a recorded ledger."""
    path = write_config(
        folder,
        args.segments,
        args.concurrency,
        database_url=database_url,
        send="workers",
        name=f"workers-{count}.toml",
    )
    config = load_config(path)
    names = [segment_name(n) for n in range(args.segments)]
    slot = f"workers-{count}"
    add_news(store, now, count)
    before = standin.counts()
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
    with worker_processes(path, count, folder) as workers:
        for worker in workers:  # listening; paused while the editions are recorded
            worker.process.send_signal(signal.SIGSTOP)
        began = time.perf_counter()
        reports = run_segments(store, config, "sendgrid", names, now=now, slot=slot)
        recorded = time.perf_counter() - began
        assert all("queued for digest worker" in r.note for r in reports), reports
        began = time.perf_counter()
        for worker in workers:  # each finds the NOTIFYs of the recording waiting for it
            worker.process.send_signal(signal.SIGCONT)
        while sending(store, slot):
            time.sleep(0.05)
        seconds = time.perf_counter() - began
        rss = max(w.peak_rss_mb() for w in workers)
        codes = [w.stop() for w in workers]
    assert codes == [0] * count, [w.log.read_text() for w in workers]
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - cpu
    after = standin.counts()
    recipients = after.recipients - before.recipients
    assert recipients >= args.subscribers, (recipients, args.subscribers)
    log(f"{count} workers: sent {recipients} in {seconds:.2f} s (recorded in {recorded:.2f} s)")
    return {
        "workers": count,
        "concurrency_per_worker": args.concurrency,
        "seconds": round(seconds, 2),
        "record_seconds": round(recorded, 2),
        "recipients_per_s": round(args.subscribers / seconds),
        "with_record_recipients_per_s": round(args.subscribers / (seconds + recorded)),
        "requests": after.requests - before.requests,
        "recipients_received": recipients,  # above the readers only by batches in doubt
        "workers_cpu_seconds": round(cpu, 2),
        "peak_rss_mb": round(rss, 1),
    }


def sending(store: Store, slot: str) -> int:
    """Editions of ``slot`` still being sent."""
    with store.session() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    Edition.slot == slot, Edition.status == EditionStatus.sending
                )
            )
            or 0
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--segments", type=int, default=20)
    parser.add_argument(
        "--sample", type=int, default=0, help="readers in the baseline (300; 40 with latency)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="[digest] concurrency")
    parser.add_argument(
        "--processes", type=int, default=os.cpu_count() or 1, help="[digest] processes"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="the stand-in's time per request"
    )
    parser.add_argument(
        "--workers", default="", help="worker counts to time, comma-separated: 1,2,3"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DIGEST_TEST_DATABASE_URL", ""),
        help="a PostgreSQL server (default $DIGEST_TEST_DATABASE_URL); else SQLite",
    )
    parser.add_argument("--folder", type=Path, default=None, help="keep the store here")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    sample = args.sample or (40 if args.latency_ms else 300)

    os.environ.setdefault("SENDGRID_API_KEY", "SG.benchmark")
    os.environ.setdefault("DIGEST_SECRET_KEY", "benchmark-signing-key")
    with tempfile.TemporaryDirectory(prefix="fanout-") as scratch, ExitStack() as stack:
        folder = args.folder or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        if args.database_url:
            database_url = stack.enter_context(postgres_schema(args.database_url))
        else:
            database_url = sqlite_url(folder)
        database = database_url.partition(":")[0].partition("+")[0]
        now = datetime.now(UTC)
        began = time.perf_counter()
        build_store(database_url, args.subscribers, args.segments, now)
        config = load_config(
            write_config(
                folder, args.segments, args.concurrency, args.processes, database_url=database_url
            )
        )
        built = time.perf_counter() - began
        log(f"built {args.subscribers} subscribers on {database} in {built:.1f} s")
        names = [segment_name(n) for n in range(args.segments)]
        with (
            standin_process(args.latency_ms / 1000) as standin,
            open_store(config.database_url) as store,
        ):
            os.environ["SENDGRID_API_HOST"] = standin.url
            with store.session() as session:
                draft = compose(session, config.segment(names[0]), now)
            rss_before = peak_rss_mb()
            standin_cpu = standin.counts().cpu_seconds
            began, cpu = time.perf_counter(), cpu_seconds()
            workers_cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
            reports = run_segments(store, config, "sendgrid", names, now=now, slot="benchmark")
            seconds, cpu = time.perf_counter() - began, cpu_seconds() - cpu
            workers_cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - workers_cpu
            workers_rss = workers_peak_rss_mb()
            counts_after = standin.counts()
            standin_cpu = counts_after.cpu_seconds - standin_cpu
            for report in reports:
                log(f"{report.segment}: {report.recipients} recipients, {report.written} sent")
            failed = [r for r in reports if r.failed or r.written != r.recipients]
            assert not failed, failed
            assert counts_after.recipients == args.subscribers, counts_after
            log(
                f"in process: sent {counts_after.recipients} in {counts_after.requests} "
                f"requests in {seconds:.2f} s"
            )
            trials = [
                workers_trial(
                    store, folder, args, database_url, standin, n, now + timedelta(hours=i + 1)
                )
                for i, n in enumerate(counts)
            ]
            baseline_seconds = baseline(store, config, draft, standin, sample)
    ours = args.subscribers / seconds
    theirs = sample / baseline_seconds
    for trial in trials:
        trial["ratio"] = round(float(str(trial["recipients_per_s"])) / theirs, 1)
    log(f"{'way':<22}{'seconds':>9}{'recipients/s':>14}{'ratio':>9}")
    log(f"{'in process':<22}{seconds:>9.2f}{ours:>14.0f}{ours / theirs:>9.1f}")
    for trial in trials:
        way = f"{trial['workers']} digest worker(s)"
        log(f"{way:<22}{trial['seconds']:>9}{trial['recipients_per_s']:>14}{trial['ratio']:>9}")
    log(f"{'one call per reader':<22}{baseline_seconds:>9.2f}{theirs:>14.1f}{1.0:>9.1f}")
    print(
        json.dumps(
            {
                "subscribers": args.subscribers,
                "segments": args.segments,
                "database": database,
                "latency_ms": args.latency_ms,
                "concurrency": args.concurrency,
                "processes": args.processes,
                "seconds": round(seconds, 2),
                "recipients_per_s": round(ours),
                "cpu_seconds": round(cpu, 2),
                "workers_cpu_seconds": round(workers_cpu, 2),
                "standin_cpu_seconds": round(standin_cpu, 2),
                "requests": counts_after.requests,
                "peak_rss_mb": round(max(peak_rss_mb(), workers_rss), 1),
                "main_peak_rss_mb": round(peak_rss_mb(), 1),
                "workers_peak_rss_mb": round(workers_rss, 1),
                "rss_before_send_mb": round(rss_before, 1),
                "worker_trials": trials,
                "baseline_sample": sample,
                "baseline_seconds": round(baseline_seconds, 2),
                "baseline_recipients_per_s": round(theirs, 1),
                "ratio": round(ours / theirs, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
