"""Load generator of `manage.py bench_transactions`: posts transactions over HTTP.

Runs as its own process (`python bench_client.py ...`, started by the command) so the client's
CPU is not the server's; it imports nothing from Django. Also the synthetic population both the
loader (transactions/management/bench_data.py) and this client draw from: users, their payment
instruments, amounts and currencies, deterministic for a seed.

Phases, each printed as one JSON line on stdout:

- warmup: closed loop, not measured (every gunicorn worker compiles its rules, reads its rates);
- fixed: open loop at --rate requests/s for --seconds. Every request has a scheduled send time
  (start + i / rate) and its latency runs from that time, so a server that stalls is charged
  for the requests that queued behind the stall (no coordinated omission). Connections are
  taken from a pool that grows up to --max-connections;
- full: closed loop, --concurrency connections each sending its next transaction as soon as
  the previous one is answered, for --seconds;
- ping: the same closed loop on POST /api/bench/ping (authenticated, inserts one row).

Before each phase a `{"start": phase}` line is printed, so the command can sample the CPU time
of the server's processes around each phase.

HTTP/1.1 over asyncio streams, keep-alive when the server keeps the connection open (gthread
workers), a new connection per request when it closes it (sync workers): no dependency.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import math
import random
import sys
import time
from urllib.parse import urlsplit

# --- the synthetic population -------------------------------------------------------------

# code, units of the base currency (USD) per unit, share of transactions, countries, decimals
CURRENCIES = (
    ("EUR", "1.08", 45, ("DE", "FR", "NL", "IE", "ES", "IT", "CY", "MT"), 2),
    ("USD", "1", 20, ("US",), 2),
    ("GBP", "1.27", 15, ("GB",), 2),
    ("PHP", "0.0175", 8, ("PH",), 2),
    ("CHF", "1.12", 5, ("CH",), 2),
    ("INR", "0.012", 4, ("IN",), 2),
    ("JPY", "0.0067", 3, ("JP",), 0),
)
RATES = {code: rate for code, rate, *_ in CURRENCIES}
TYPES = (("TRANSFER", 50), ("EXTERNAL_PAYMENT", 20), ("DEPOSIT", 15), ("WITHDRAWAL", 10), ("REFUND", 5))
# A transaction's amount, in EUR before conversion: log-normal around a median of 120 EUR
# (about 0.5% at or above 10,000).
AMOUNT_MEDIAN_EUR = 120.0
AMOUNT_SIGMA = 1.4
# How unevenly activity is spread over users: log-normal weights; the busiest of 10,000
# users sends about 50 times as many transactions as the average one.
USER_SIGMA = 1.3
EXTERNAL_COUNTERPARTIES = 50_000
EXTERNAL_SHARE = 0.3  # transactions to a counterparty that is not one of our users


def user_ref(pk: int) -> str:
    """The userId of customer `pk` (users/management/bench_data.py: external_ref)."""
    return f"BENCH{pk:08d}"


def identifier(method: str, *parts: str) -> str:
    """`METHOD:value`, as the serializers derive it (transactions.api.serializers)."""
    return f"{method}:{'/'.join(parts)}".upper().replace(" ", "")[:200]


def instruments(pk: int) -> list[tuple[str, dict, str]]:
    """The payment instruments of user `pk` (1 to 3): (method, details as posted, identifier)."""
    result = []
    for j in range(1 + (pk * 7919) % 3):
        method = ("CARD", "IBAN", "WALLET")[(pk + j) % 3]
        if method == "CARD":
            fingerprint = f"fp{pk:07d}c{j}"
            details = {
                "method": method,
                "cardFingerprint": fingerprint,
                "cardLast4Digits": f"{(pk * 31 + j) % 10000:04d}",
                "cardBrand": "VISA",
            }
            result.append((method, details, identifier(method, fingerprint)))
        elif method == "IBAN":
            iban = f"GB{10 + pk % 90:02d}BENC{pk:08d}{j:06d}"
            details = {"method": method, "IBAN": iban, "BIC": "BENCGB2L", "name": user_ref(pk)}
            result.append((method, details, identifier(method, iban)))
        else:
            wallet = f"w-{pk}-{j}"
            details = {"method": method, "walletId": wallet, "walletType": "mobile"}
            result.append((method, details, identifier(method, wallet)))
    return result


def external_instrument(n: int) -> tuple[str, dict, str]:
    iban = f"DE{10 + n % 90:02d}EXTN{n:010d}"
    return "IBAN", {"method": "IBAN", "IBAN": iban, "name": f"Counterparty {n}"}, identifier("IBAN", iban)


class Population:
    """Who pays whom, how much, in what: the same draws for the loader and the client."""

    def __init__(self, users: int, seed: int):
        weights_rng = random.Random(seed)  # noqa: S311 (synthetic data)
        self.users = users
        self.user_ids = list(range(1, users + 1))
        running, self.user_cumulative = 0.0, []
        for _ in self.user_ids:
            running += weights_rng.lognormvariate(0.0, USER_SIGMA)
            self.user_cumulative.append(running)
        self.currency_cumulative = _cumulative([share for _, _, share, _, _ in CURRENCIES])
        self.type_names = [name for name, _ in TYPES]
        self.type_cumulative = _cumulative([share for _, share in TYPES])
        self._instruments: dict[int, list] = {}

    def user(self, rng: random.Random) -> int:
        return self.user_ids[bisect.bisect(self.user_cumulative, rng.random() * self.user_cumulative[-1])]

    def instruments(self, pk: int) -> list:
        if pk not in self._instruments:
            self._instruments[pk] = instruments(pk)
        return self._instruments[pk]

    def draw(self, rng: random.Random) -> dict:
        """One transaction's values (amounts as text with their decimals)."""
        origin = self.user(rng)
        index = bisect.bisect(self.currency_cumulative, rng.random() * self.currency_cumulative[-1])
        currency, rate, _, countries, decimals = CURRENCIES[index]
        eur = min(AMOUNT_MEDIAN_EUR * math.exp(rng.gauss(0.0, AMOUNT_SIGMA)), 2_000_000.0)
        amount = eur * float(RATES["EUR"]) / float(rate)
        amount = max(round(amount, decimals), 1.0)
        kind = self.type_names[bisect.bisect(self.type_cumulative, rng.random() * self.type_cumulative[-1])]
        own = self.instruments(origin)
        origin_instrument = own[0] if len(own) == 1 or rng.random() < 0.7 else rng.choice(own)
        destination = None
        if rng.random() >= EXTERNAL_SHARE:
            destination = self.user(rng)
            if destination == origin:
                destination = self.user_ids[origin % self.users]  # the next user
        if destination is not None and destination != origin:
            destination_instrument = self.instruments(destination)[0]
        else:
            destination = None
            destination_instrument = external_instrument(rng.randrange(EXTERNAL_COUNTERPARTIES))
        country = countries[0] if len(countries) == 1 else rng.choice(countries)
        return {
            "type": kind,
            "origin": origin,
            "destination": destination,
            "currency": currency,
            "amount": f"{amount:.{decimals}f}",
            "origin_country": country,
            "destination_country": country if rng.random() < 0.85 else rng.choice(CURRENCIES[0][3]),
            "origin_instrument": origin_instrument,
            "destination_instrument": destination_instrument,
        }


def _cumulative(weights) -> list[float]:
    running, result = 0.0, []
    for weight in weights:
        running += weight
        result.append(running)
    return result


DEVICES = (
    ("Android 14", "Samsung", "Galaxy S23"),
    ("iOS 17.5", "Apple", "iPhone 15"),
    ("Android 13", "Google", "Pixel 7"),
    ("Windows 11", "Dell", "Latitude 7440"),
)


def transaction_body(population: Population, rng: random.Random, transaction_id: str, now_ms: int) -> dict:
    """A new transaction in the seed 004 shape (POST /api/transactions)."""
    values = population.draw(rng)
    system, maker, model = DEVICES[values["origin"] % len(DEVICES)]
    amount = float(values["amount"])
    amount = int(amount) if amount.is_integer() else amount
    body = {
        "type": values["type"],
        "transactionId": transaction_id,
        "timestamp": now_ms,
        "transactionState": "CREATED",
        "originUserId": user_ref(values["origin"]),
        "productType": "Digital",
        "originAmountDetails": {
            "transactionAmount": amount,
            "transactionCurrency": values["currency"],
            "country": values["origin_country"],
        },
        "destinationAmountDetails": {
            "transactionAmount": amount,
            "transactionCurrency": values["currency"],
            "country": values["destination_country"],
        },
        "originPaymentDetails": values["origin_instrument"][1],
        "destinationPaymentDetails": values["destination_instrument"][1],
        "reference": "Benchmark payment",
        "originDeviceData": {
            "ipAddress": f"10.{values['origin'] % 250}.{values['origin'] // 250 % 250}.{rng.randint(1, 250)}",
            "deviceIdentifier": f"dev-{values['origin']}",
            "vpnUsed": rng.random() < 0.03,
            "operatingSystem": system,
            "deviceMaker": maker,
            "deviceModel": model,
            "appVersion": "4.2.1",
        },
        "tags": [{"key": "channel", "value": "app"}],
    }
    if values["destination"] is not None:
        body["destinationUserId"] = user_ref(values["destination"])
    return body


# --- HTTP -----------------------------------------------------------------------------------


class Closed(Exception):
    """The server closed the connection before answering (a kept-alive connection it timed out)."""


class Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def request(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        """Send one request; answer (status, body). Reconnects when the server closed the connection."""
        for attempt in (1, 2):
            fresh = self.writer is None
            if fresh:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                self.writer.write(head + body)
                return await self._response()
            except (Closed, ConnectionError):
                self.close()
                if fresh or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, bytes]:
        line = await self.reader.readline()
        if not line:
            raise Closed()
        status = int(line.split(b" ", 2)[1])
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        body = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Pool:
    """Idle connections; a new one is opened when none is idle, up to `limit` open at once."""

    def __init__(self, host: str, port: int, limit: int):
        self.host, self.port, self.limit = host, port, limit
        self.idle: list[Connection] = []
        self.open = 0
        self.peak = 0
        self.available = asyncio.Condition()

    async def acquire(self) -> Connection:
        async with self.available:
            while not self.idle and self.open >= self.limit:
                await self.available.wait()
            if self.idle:
                return self.idle.pop()
            self.open += 1
            self.peak = max(self.peak, self.open)
            return Connection(self.host, self.port)

    async def release(self, connection: Connection) -> None:
        async with self.available:
            self.idle.append(connection)
            self.available.notify()


class Client:
    def __init__(self, args):
        url = urlsplit(args.url)
        self.host, self.port = url.hostname, url.port or 80
        self.key = args.key
        self.population = Population(args.users, args.seed)
        self.rng = random.Random(f"{args.seed}-{args.run_id}")  # noqa: S311 (synthetic data)
        self.run_id = args.run_id
        self.sequence = 0

    def head(self, path: str, length: int) -> bytes:
        return (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nx-api-key: {self.key}\r\n"
            f"Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: {length}\r\n\r\n"
        ).encode("latin-1")

    def transaction(self) -> tuple[bytes, bytes]:
        self.sequence += 1
        body = transaction_body(
            self.population, self.rng, f"live-{self.run_id}-{self.sequence}", int(time.time() * 1000)
        )
        data = json.dumps(body, separators=(",", ":")).encode()
        return self.head("/api/transactions", len(data)), data

    def ping(self) -> tuple[bytes, bytes]:
        data = b"{}"
        return self.head("/api/bench/ping", len(data)), data


class Recorder:
    def __init__(self):
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.sample_error = ""
        self.first_start = self.last_end = None

    def record(self, start: float, end: float, status: int | None, body: bytes | str) -> None:
        self.first_start = start if self.first_start is None else min(self.first_start, start)
        self.last_end = end if self.last_end is None else max(self.last_end, end)
        if status == 200:
            self.latencies.append(end - start)
            return
        key = str(status) if status is not None else "connection"
        self.errors[key] = self.errors.get(key, 0) + 1
        if not self.sample_error:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            self.sample_error = f"{key}: {text[:300]}"

    def summary(self, phase: str, **extra) -> dict:
        ok = sorted(self.latencies)
        errors = sum(self.errors.values())
        elapsed = (self.last_end - self.first_start) if self.first_start is not None else 0.0

        def percentile(p: float) -> float | None:
            if not ok:
                return None
            return ok[min(len(ok) - 1, max(0, math.ceil(p / 100 * len(ok)) - 1))] * 1000

        return {
            "phase": phase,
            "ok": len(ok),
            "errors": errors,
            "error_statuses": self.errors,
            "sample_error": self.sample_error,
            "seconds": round(elapsed, 3),
            "throughput": round(len(ok) / elapsed, 1) if elapsed else 0.0,
            "p50_ms": percentile(50),
            "p95_ms": percentile(95),
            "p99_ms": percentile(99),
            "max_ms": ok[-1] * 1000 if ok else None,
            "mean_ms": sum(ok) / len(ok) * 1000 if ok else None,
            **extra,
        }


async def _send(connection: Connection, head: bytes, body: bytes) -> tuple[int | None, bytes | str]:
    try:
        return await connection.request(head, body)
    except (OSError, asyncio.IncompleteReadError, Closed, ValueError, IndexError) as error:
        connection.close()
        return None, f"{type(error).__name__}: {error}"


async def closed_loop(client: Client, make, concurrency: int, seconds: float) -> Recorder:
    recorder = Recorder()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    async def worker():
        connection = Connection(client.host, client.port)
        while loop.time() < deadline:
            head, body = make()
            start = loop.time()
            status, answer = await _send(connection, head, body)
            recorder.record(start, loop.time(), status, answer)
        connection.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return recorder


async def open_loop(client: Client, rate: float, seconds: float, max_connections: int, drain: float) -> tuple:
    recorder = Recorder()
    loop = asyncio.get_running_loop()
    pool = Pool(client.host, client.port, max_connections)
    total = max(1, int(rate * seconds))
    start = loop.time() + 0.05
    late = 0.0  # how far behind schedule the sender itself ran, at worst

    async def one(scheduled: float):
        connection = await pool.acquire()
        head, body = client.transaction()
        status, answer = await _send(connection, head, body)
        recorder.record(scheduled, loop.time(), status, answer)
        await pool.release(connection)

    tasks = []
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            late = max(late, -delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    # A server far slower than the rate would keep the phase going for minutes: what is not
    # answered `drain` seconds after the last send time is cancelled and counted as an error.
    _, pending = await asyncio.wait(tasks, timeout=max(drain - (loop.time() - scheduled), 0.1))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for _ in pending:
        recorder.record(scheduled, loop.time(), None, f"not answered {drain:g} s after the last send time")
    for connection in pool.idle:
        connection.close()
    return recorder, {
        "offered_rate": rate,
        "requests": total,
        "unanswered": len(pending),
        "peak_connections": pool.peak,
        "sender_late_ms": round(late * 1000, 1),
    }


async def settle(client: Client, limit: float = 120.0) -> float:
    """Wait until the server answers GET /api/health quickly again (it may still be working
    through requests whose client gave up); answer how long that took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    head = f"GET /api/health HTTP/1.1\r\nHost: {client.host}:{client.port}\r\nConnection: close\r\n\r\n"
    quick = 0
    while quick < 2 and loop.time() - start < limit:
        sent = loop.time()
        status, _ = await _send(Connection(client.host, client.port), head.encode("latin-1"), b"")
        quick = quick + 1 if status == 200 and loop.time() - sent < 0.2 else 0
        await asyncio.sleep(0.2)
    return loop.time() - start


async def main(args) -> None:
    client = Client(args)

    def emit(result: dict) -> None:
        print(json.dumps(result), flush=True)

    for phase in args.phases.split(","):
        emit({"start": phase})  # the command samples the processes' CPU time at each line
        if phase == "warmup":
            recorder = await closed_loop(client, client.transaction, args.concurrency, args.warmup)
            pings = await closed_loop(client, client.ping, args.concurrency, min(args.warmup, 1.0))
            emit(recorder.summary("warmup", ping_ok=len(pings.latencies)))
        elif phase == "fixed":
            drain = max(10.0, args.seconds / 2)
            recorder, extra = await open_loop(client, args.rate, args.seconds, args.max_connections, drain)
            emit(recorder.summary("fixed", **extra))
            if extra["unanswered"]:
                emit({"settled": "fixed", "seconds": round(await settle(client), 1)})
        elif phase == "full":
            recorder = await closed_loop(client, client.transaction, args.concurrency, args.seconds)
            emit(recorder.summary("full", concurrency=args.concurrency))
        elif phase == "ping":
            recorder = await closed_loop(client, client.ping, args.concurrency, args.seconds)
            emit(recorder.summary("ping", concurrency=args.concurrency))
        else:
            raise SystemExit(f"unknown phase {phase!r}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8765")
    parser.add_argument("--key", required=True, help="an integrator API key")
    parser.add_argument("--users", type=int, required=True, help="users loaded (BENCH00000001...)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--run-id", default=str(int(time.time())), help="makes transactionIds unique")
    parser.add_argument("--phases", default="warmup,fixed,full,ping")
    parser.add_argument("--rate", type=float, default=100.0, help="requests/s of the fixed-rate phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each measured phase")
    parser.add_argument("--warmup", type=float, default=5.0, help="length of the warm-up")
    parser.add_argument("--concurrency", type=int, default=8, help="connections of the full-speed phases")
    parser.add_argument("--max-connections", type=int, default=64, help="open-loop connection limit")
    return parser.parse_args(argv)


if __name__ == "__main__":
    try:
        asyncio.run(main(parse_args()))
    except KeyboardInterrupt:
        sys.exit(130)
