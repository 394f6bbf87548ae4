"""Fan-out benchmark: a million recipients in 20 segments through the SendGrid backend.

    python benchmarks/fanout.py [--subscribers 1000000] [--segments 20] [--sample 300]

Builds a SQLite store of ``--subscribers`` readers spread over ``--segments`` lists (by
SQL, not timed), then times ``run_segments`` — compose, render once, record the ledger,
send every batch — for all segments against a SendGrid stand-in running in another
process. Then, on ``--sample`` readers of the first segment, it times the per-recipient
way most tools send: render the email for each reader (Jinja2 + MJML) and make one API
call per reader, to the same stand-in. The last line printed is one JSON object.

With ``--processes`` above 1 (the default: one per core) the run's worker processes
send the large editions while this process records the next one. ``peak_rss_mb`` is the
larger of this process's peak resident memory (``main_peak_rss_mb``: start-up, building
the store, the timed send and the baseline sample) and the largest worker's
(``workers_peak_rss_mb``); ``rss_before_send_mb`` is this process's reading just before
the timed send; ``cpu_seconds`` and ``workers_cpu_seconds`` are the CPU time of this
process and of the workers during the send. The stand-in is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sendgrid import SendGridAPIClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fanout_world import (
    RemoteStandIn,
    build_store,
    segment_name,
    standin_process,
    write_config,
)

from digest.compose.edition import Draft, compose
from digest.config import Config, load_config
from digest.deliver.batches import outgoing_for
from digest.deliver.links import signer
from digest.deliver.message import Outgoing, Recipient, personalise
from digest.deliver.sendgrid import request_json
from digest.render.email import Identity, Rendered, render
from digest.run.segments import run_segments
from digest.store.database import Store, open_store
from digest.store.models import Edition
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
        template = outgoing_for(config.sender, edition)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--segments", type=int, default=20)
    parser.add_argument("--sample", type=int, default=300, help="readers in the baseline")
    parser.add_argument("--concurrency", type=int, default=4, help="[digest] concurrency")
    parser.add_argument(
        "--processes", type=int, default=os.cpu_count() or 1, help="[digest] processes"
    )
    parser.add_argument("--folder", type=Path, default=None, help="keep the store here")
    args = parser.parse_args()

    os.environ.setdefault("SENDGRID_API_KEY", "SG.benchmark")
    os.environ.setdefault("DIGEST_SECRET_KEY", "benchmark-signing-key")
    with tempfile.TemporaryDirectory(prefix="fanout-") as scratch:
        folder = args.folder or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        began = time.perf_counter()
        build_store(folder, args.subscribers, args.segments, now)
        config = load_config(write_config(folder, args.segments, args.concurrency, args.processes))
        log(f"built {args.subscribers} subscribers in {time.perf_counter() - began:.1f} s")
        names = [segment_name(n) for n in range(args.segments)]
        with standin_process() as standin, open_store(config.database_url) as store:
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
            counts = standin.counts()
            standin_cpu = counts.cpu_seconds - standin_cpu
            for report in reports:
                log(f"{report.segment}: {report.recipients} recipients, {report.written} sent")
            failed = [r for r in reports if r.failed or r.written != r.recipients]
            assert not failed, failed
            assert counts.recipients == args.subscribers, counts
            log(f"sent {counts.recipients} in {counts.requests} requests in {seconds:.2f} s")
            baseline_seconds = baseline(store, config, draft, standin, args.sample)
    ours = args.subscribers / seconds
    theirs = args.sample / baseline_seconds
    print(
        json.dumps(
            {
                "subscribers": args.subscribers,
                "segments": args.segments,
                "concurrency": args.concurrency,
                "processes": args.processes,
                "seconds": round(seconds, 2),
                "recipients_per_s": round(ours),
                "cpu_seconds": round(cpu, 2),
                "workers_cpu_seconds": round(workers_cpu, 2),
                "standin_cpu_seconds": round(standin_cpu, 2),
                "requests": counts.requests,
                "peak_rss_mb": round(max(peak_rss_mb(), workers_rss), 1),
                "main_peak_rss_mb": round(peak_rss_mb(), 1),
                "workers_peak_rss_mb": round(workers_rss, 1),
                "rss_before_send_mb": round(rss_before, 1),
                "baseline_sample": args.sample,
                "baseline_seconds": round(baseline_seconds, 2),
                "baseline_recipients_per_s": round(theirs, 1),
                "ratio": round(ours / theirs, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
