#!/usr/bin/env python3
"""The load of ``make soak`` (``bench/bench_soak.py``): an external client of the running server.

Usage: ``python3 bench/soak_load.py SPEC.json`` (``bench_soak.py`` writes the spec and starts it).

It only speaks HTTP to the server, as the outside world does: JSON-RPC (``/json/2/``, bearer API
keys of a salesperson, support agents and the administrator), the portal (``/web/login``, then
sale's ``/my/orders/<id>`` page and its ``/accept`` route, as the customer who signs), and the mail
gateway (``mail.thread.message_process``, as ``odoo-mailgate.py`` delivers a message). It imports
nothing of Odoo. Each thing it does is one line of the events file (JSON), with the time it was
done (``time.time()``), so that ``bench_soak.py`` measures from what the client saw.

Actors (threads), each seeded from the spec's seed:

- leads: ``rate`` a minute, a share of them emails to the CRM team's alias, the rest created by the
  salesperson over JSON-RPC;
- tickets: ``rate`` new customer emails a minute to the support alias, each with its script: the
  agent's reply (some late, some never), "waiting on the customer" and the customer's answer by
  email, the agent's next reply and the resolution;
- acceptances: a steady stream (portal signatures and the salesperson's accept wizard) and, at
  ``burst_at``, ``burst`` acceptances at once (salesperson acceptances on ``burst_concurrency``
  connections, portal signatures on ``portal_concurrency``: sale's accept route renders the signed
  PDF with wkhtmltopdf, which fetches its assets from the same server; two renderings at once on
  two workers wait for each other until a worker is killed);
- payments: each accepted order is paid one of three ways (``mix``): a bank transfer naming the
  order made at acceptance (before its invoice), the payment register wizard on the posted invoice
  once the order waits for its payment, or a bank transfer naming the order posted then and left
  for the chain to match;
- the daily jobs: at ``jobs.at``, the rescoring, training and health crons are triggered (a trigger
  the cron workers take, or ``method_direct_trigger`` in an HTTP worker).

New work is offered until ``load_end``; a burst under way is finished; the payments go on until the
stop file appears (the drain) or ``hard_end``.
"""

import base64
import heapq
import io
import itertools
import json
import queue
import random
import re
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import requests

TIMEOUT = 600  # seconds: a request queued behind a burst still gets its answer
NEEDS = (
    "standing desks for the new office",
    "ergonomic chairs for 40 people",
    "a conference room camera",
    "monitors and docking stations",
    "acoustic panels for an open space",
)
TICKET_SUBJECTS = (
    "Where is my parcel?",
    "Invoice amount is wrong",
    "Cannot log in to the portal",
    "Damaged goods on delivery",
    "Question about the warranty",
    "Missing item in the order",
)


class RpcError(Exception):
    """The server answered an error (its message, as the client sees it)."""


class Events:
    """The events file: one JSON object a line, written by every thread."""

    def __init__(self, path):
        self.handle = Path(path).open("a", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self.lock = threading.Lock()

    def emit(self, kind, **values):
        line = json.dumps({"t": time.time(), "kind": kind, **values}, default=str)
        with self.lock:
            self.handle.write(line + "\n")
            self.handle.flush()

    def close(self):
        self.handle.close()


def short(error):
    text = str(error).strip().splitlines()
    return (text[0] if text else repr(error))[:300]


class Json2:
    """``/json/2/<model>/<method>`` with a bearer API key: a session per thread."""

    def __init__(self, url, db, key):
        self.url, self.db, self.key = url, db, key
        self.local = threading.local()

    def session(self):
        if not hasattr(self.local, "session"):
            session = requests.Session()
            session.headers.update(
                {"Authorization": f"bearer {self.key}", "X-Odoo-Database": self.db, "User-Agent": "crm-suite-soak"}
            )
            self.local.session = session
        return self.local.session

    def call(self, model, method, /, **kwargs):
        response = self.session().post(f"{self.url}/json/2/{model}/{method}", json=kwargs, timeout=TIMEOUT)
        if response.status_code != 200:
            try:
                body = response.json()
                message = body.get("message") or body.get("name") or response.text
            except ValueError:
                message = response.text
            raise RpcError(f"{response.status_code} {model}.{method}: {short(message)}")
        return response.json()


class Portal:
    """A portal customer's browser: a session cookie after ``/web/login``."""

    def __init__(self, url, login, password):
        self.url, self.login, self.password = url, login, password
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "crm-suite-soak-portal"
        self.logged_in = False
        self.lock = threading.Lock()

    def _login(self):
        page = self.session.get(f"{self.url}/web/login", timeout=TIMEOUT)
        match = re.search(r'name="csrf_token"\s+value="([^"]+)"', page.text)
        if not match:
            raise RpcError(f"{page.status_code} /web/login: no csrf_token in the login page")
        response = self.session.post(
            f"{self.url}/web/login",
            data={"login": self.login, "password": self.password, "csrf_token": match.group(1), "redirect": "/my"},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        if response.status_code not in (301, 302, 303):
            raise RpcError(f"{response.status_code} /web/login: {self.login} not logged in")
        self.logged_in = True

    def sign(self, order, signature):
        """Read the quotation on the portal, then sign it (sale's ``/accept`` route)."""
        with self.lock:
            if not self.logged_in:
                self._login()
            page = self.session.get(
                f"{self.url}/my/orders/{order['id']}", params={"access_token": order["token"]}, timeout=TIMEOUT
            )
            if page.status_code != 200:
                raise RpcError(f"{page.status_code} /my/orders/{order['id']}")
            response = self.session.post(
                f"{self.url}/my/orders/{order['id']}/accept",
                params={"access_token": order["token"]},
                json={
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": order["id"],
                    "params": {"name": order["signer"], "signature": signature, "access_token": order["token"]},
                },
                timeout=TIMEOUT,
            )
        if response.status_code != 200:
            raise RpcError(f"{response.status_code} /my/orders/<id>/accept")
        body = response.json()
        if body.get("error"):
            error = body["error"]
            raise RpcError(f"/my/orders/<id>/accept: {short((error.get('data') or {}).get('message') or error)}")
        result = body.get("result") or {}
        if isinstance(result, dict) and result.get("error"):
            raise RpcError(f"/my/orders/<id>/accept refused: {short(result['error'])}")


def signature_png():
    """A signature as the portal's signature pad sends it (a PNG, base64)."""
    from PIL import Image, ImageDraw  # noqa: PLC0415 - Pillow comes with Odoo's requirements

    image = Image.new("RGB", (240, 80), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(10, 60), (60, 20), (110, 55), (160, 25), (220, 50)], fill="black", width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def rfc822(sender, to, subject, body, reply_to_id=None, references=None):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-Id"] = make_msgid(domain="customers.soak.example")
    if reply_to_id:
        message["In-Reply-To"] = reply_to_id
        message["References"] = references or reply_to_id
    message.set_content(body)
    return message["Message-Id"], message.as_string()


class Load:
    def __init__(self, spec):
        self.spec = spec
        self.events = Events(spec["events"])
        self.rng = random.Random(spec["seed"])
        self.rng_lock = threading.Lock()
        url, db, keys = spec["url"], spec["db"], spec["keys"]
        self.admin = Json2(url, db, keys["admin"])
        self.sales = Json2(url, db, keys["sales"])
        self.agents = {int(uid): Json2(url, db, key) for uid, key in keys["agents"].items()}
        self.portals = {}
        self.portal_slots = threading.Semaphore(spec["accept"]["portal_concurrency"])
        self.signature = signature_png()
        self.payments = queue.Queue()
        self.awaiting = {}  # order id -> (order, way): paid once the order waits for its payment
        self.awaiting_lock = threading.Lock()
        self.counter = itertools.count(1)

    # -- helpers ------------------------------------------------------------------

    def random(self):
        with self.rng_lock:
            return self.rng.random()

    def uniform(self, low, high):
        with self.rng_lock:
            return self.rng.uniform(low, high)

    def choice(self, values):
        with self.rng_lock:
            return self.rng.choice(values)

    def offering(self):
        return time.time() < self.spec["load_end"]

    def stopping(self):
        return Path(self.spec["stop_file"]).exists() or time.time() > self.spec["hard_end"]

    def steady(self, rate_per_minute, action):
        """Call ``action(index)`` at a steady rate (a little jitter) until the load ends."""
        if rate_per_minute <= 0:
            return
        interval = 60.0 / rate_per_minute
        started = self.spec["start"]
        for index in itertools.count():
            due = started + index * interval + self.uniform(0, interval * 0.2)
            if due >= self.spec["load_end"]:
                return
            pause = due - time.time()
            if pause > 0:
                time.sleep(pause)
            try:
                action(index)
            except Exception as error:  # noqa: BLE001 - the harness reports every failure, it never stops on one
                self.events.emit("client_error", actor=action.__name__, error=short(error))

    def gateway(self, raw):
        """Deliver an email as odoo-mailgate.py does: ``message_process`` as the administrator."""
        return self.admin.call("mail.thread", "message_process", model=False, message=raw)

    # -- leads ------------------------------------------------------------------------

    def lead(self, index):
        spec = self.spec["lead"]
        company = f"{self.choice(('Northwind', 'Contoso', 'Fabrikam', 'Globex', 'Initech'))} {index + 1}"
        person = f"{self.choice(('Ada', 'Ben', 'Chloe', 'Dan', 'Eve'))} {self.choice(('Lee', 'Kim', 'Roy'))}"
        email = f"{person.lower().replace(' ', '.')}@lead{index + 1}.soak.example"
        need = self.choice(NEEDS)
        if self.random() < spec["email_share"]:
            _msgid, raw = rfc822(
                f"{person} <{email}>",
                spec["alias"],
                f"{company}: {need}",
                f"Hello,\n\nWe are looking for {need}. Could you send us an offer?\n\n{person}, {company}",
            )
            try:
                lead_id = self.gateway(raw)
                self.events.emit("lead", via="email", ok=True, id=lead_id)
            except (RpcError, requests.RequestException) as error:
                self.events.emit("lead", via="email", ok=False, error=short(error))
            return
        vals = {
            "name": f"{company}: {need}",
            "partner_name": company,
            "contact_name": person,
            "email_from": email,
            "phone": f"+32 470 {index:06d}",
            "country_id": self.choice(spec["countries"]),
            "expected_revenue": self.choice((1500, 4000, 9000, 25000)),
            "team_id": spec["team_id"],
            "type": "opportunity",
            "description": f"Asked for {need}.",
        }
        try:
            lead_id = self.sales.call("crm.lead", "create", vals_list=[vals])[0]
            self.events.emit("lead", via="rpc", ok=True, id=lead_id)
        except (RpcError, requests.RequestException) as error:
            self.events.emit("lead", via="rpc", ok=False, error=short(error))

    # -- tickets ----------------------------------------------------------------------

    def ticket_script(self):
        """The steps of one conversation after the customer's first email: ``[(delay, step), ...]``."""
        spec = self.spec["ticket"]
        if self.random() < spec["unanswered_share"]:
            return [(self.uniform(60, 120), "customer_again")]  # nobody answers: the clocks must fail
        late = self.random() < spec["late_share"]
        steps = [(self.uniform(200, 280) if late else self.uniform(20, 150), "agent_reply")]
        if self.random() < 0.5:
            steps += [
                (0.5, "agent_waiting"),
                (self.uniform(30, 120), "customer_answer"),
                (self.uniform(20, 100), "agent_reply"),
                (self.uniform(10, 60), "agent_close"),
            ]
        else:
            steps.append((self.uniform(15, 90), "agent_close"))
        return steps

    def ticket_open(self, index):
        spec = self.spec["ticket"]
        name, email = self.choice(spec["contacts"])
        subject = f"{self.choice(TICKET_SUBJECTS)} ({index + 1})"
        msgid, raw = rfc822(
            f"{name} <{email}>", spec["alias"], subject, f"Hello,\n\n{subject}: can you help?\n\n{name}"
        )
        ticket_id = self.gateway(raw)
        self.events.emit("ticket_email", step="open", ok=True, ticket=ticket_id)
        ticket = self.admin.call("support.ticket", "read", ids=[ticket_id], fields=["number", "user_id"])[0]
        return {
            "id": ticket_id,
            "number": ticket["number"],
            "user_id": ticket["user_id"] and ticket["user_id"][0],
            "subject": subject,
            "customer": (name, email),
            "last_msgid": msgid,
        }

    def agent_for(self, ticket):
        return self.agents.get(ticket["user_id"]) or next(iter(self.agents.values()))

    def ticket_step(self, ticket, step):
        spec = self.spec["ticket"]
        agent = self.agent_for(ticket)
        if step == "agent_reply":
            message_ids = agent.call(
                "support.ticket",
                "message_post",
                ids=[ticket["id"]],
                body="Thank you for your message: we are on it.",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            message = agent.call("mail.message", "read", ids=message_ids[:1], fields=["message_id"])
            ticket["last_msgid"] = message[0]["message_id"] if message else ticket["last_msgid"]
        elif step == "agent_waiting":
            agent.call("support.ticket", "write", ids=[ticket["id"]], vals={"stage_id": spec["waiting_stage_id"]})
        elif step == "agent_close":
            agent.call("support.ticket", "action_close", ids=[ticket["id"]])
        else:  # customer_answer, customer_again: the customer writes back by email
            name, email = ticket["customer"]
            msgid, raw = rfc822(
                f"{name} <{email}>",
                spec["alias"],
                f"Re: [{ticket['number']}] {ticket['subject']}",
                "Here is what you asked for. Thanks!" if step == "customer_answer" else "Any news?",
                reply_to_id=ticket["last_msgid"],
            )
            self.gateway(raw)
            ticket["last_msgid"] = msgid
        kind = "ticket_agent" if step.startswith("agent") else "ticket_email"
        self.events.emit(kind, step=step, ok=True, ticket=ticket["id"])

    def tickets(self):
        """New conversations at the ticket rate; their later steps run when due, two at a time."""
        agenda, pool, sequence = [], ThreadPoolExecutor(max_workers=2), itertools.count()
        rate = self.spec["ticket"]["rate"]
        interval = 60.0 / rate if rate > 0 else None
        next_new, index = self.spec["start"], 0
        lock = threading.Lock()

        def run(kind, ticket, steps):
            try:
                if kind == "open":
                    ticket = self.ticket_open(ticket)
                else:
                    self.ticket_step(ticket, kind)
            except Exception as error:  # noqa: BLE001 - reported, the conversation stops there
                self.events.emit("client_error", actor=f"ticket {kind}", error=short(error))
                return
            if steps:
                (delay, step), rest = steps[0], steps[1:]
                with lock:
                    heapq.heappush(agenda, (time.time() + delay, next(sequence), step, ticket, rest))

        while self.offering():
            now = time.time()
            if interval and now >= next_new:
                pool.submit(run, "open", index, self.ticket_script())
                index += 1
                next_new += interval * self.uniform(0.8, 1.2)
            with lock:
                due = []
                while agenda and agenda[0][0] <= now:
                    due.append(heapq.heappop(agenda))
            for _when, _seq, step, ticket, rest in due:
                pool.submit(run, step, ticket, rest)
            time.sleep(0.2)
        pool.shutdown(wait=True)
        self.events.emit("tickets_left", steps_not_played=len(agenda))

    # -- acceptances and payments -------------------------------------------------------

    def way(self):
        mix = self.spec["pay"]["mix"]
        draw, total = self.random(), 0.0
        for way, share in mix.items():
            total += share
            if draw < total:
                return way
        return "register"

    def accept(self, order, channel, wave):
        """One acceptance; the payment is planned at once (a transfer now, or once invoiced)."""
        started = time.time()
        try:
            if channel == "portal":
                portal = self.portals.setdefault(
                    order["login"], Portal(self.spec["url"], order["login"], order["password"])
                )
                with self.portal_slots:
                    portal.sign(order, self.signature)
            else:
                wizard = self.sales.call(
                    "sale.q2c.accept.wizard",
                    "create",
                    vals_list=[{"order_id": order["id"], "accepted_by": order["signer"], "channel": "phone"}],
                )
                self.sales.call("sale.q2c.accept.wizard", "action_accept", ids=wizard)
        except (RpcError, requests.RequestException) as error:
            self.events.emit(
                "accept",
                order=order["id"],
                channel=channel,
                wave=wave,
                ok=False,
                error=short(error),
                seconds=time.time() - started,
            )
            return
        way = self.way()
        self.events.emit(
            "accept", order=order["id"], channel=channel, wave=wave, ok=True, way=way, seconds=time.time() - started
        )
        if way == "prepay":
            self.payments.put(("prepay", order))
        else:
            with self.awaiting_lock:
                self.awaiting[order["id"]] = (order, way)

    def steady_accept(self, index):
        spec = self.spec["accept"]
        portal = bool(self.steady_portal) and self.random() < spec["portal_share"]
        orders = self.steady_portal if portal else self.steady_sales
        if orders:
            self.accept(orders.pop(0), "portal" if portal else "sales", "steady")

    def burst(self):
        spec = self.spec["accept"]
        pause = spec["burst_at"] - time.time()
        if not spec["burst"] or spec["burst_at"] >= self.spec["load_end"]:
            return
        if pause > 0:
            time.sleep(pause)
        work = {"portal": queue.Queue(), "sales": queue.Queue()}
        for order in spec["burst_portal"]:
            work["portal"].put(order)
        for order in spec["burst_sales"]:
            work["sales"].put(order)
        self.events.emit("burst_start", portal=len(spec["burst_portal"]), sales=len(spec["burst_sales"]))

        def drain(channel):
            while not self.stopping():
                try:
                    order = work[channel].get_nowait()
                except queue.Empty:
                    return
                self.accept(order, channel, "burst")

        threads = [threading.Thread(target=drain, args=("sales",)) for _ in range(spec["burst_concurrency"])]
        threads += [threading.Thread(target=drain, args=("portal",)) for _ in range(spec["portal_concurrency"])]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.events.emit("burst_end", not_sent=work["portal"].qsize() + work["sales"].qsize())

    def pay(self, way, order, invoices=None):
        spec = self.spec["pay"]
        try:
            if way == "register":
                context = {"active_model": "account.move", "active_ids": [inv["id"] for inv in invoices]}
                wizard = self.admin.call("account.payment.register", "create", vals_list=[{}], context=context)
                self.admin.call("account.payment.register", "action_create_payments", ids=wizard, context=context)
            else:
                amount = order["amount"] if way == "prepay" else round(sum(i["amount_residual"] for i in invoices), 2)
                payment = self.admin.call(
                    "account.payment",
                    "create",
                    vals_list=[
                        {
                            "payment_type": "inbound",
                            "partner_type": "customer",
                            "partner_id": order["payer_id"],
                            "amount": amount,
                            "journal_id": spec["journal_id"],
                            "memo": order["name"],
                        }
                    ],
                )
                self.admin.call("account.payment", "action_post", ids=payment)
        except (RpcError, requests.RequestException) as error:
            self.events.emit("payment", order=order["id"], way=way, ok=False, error=short(error))
            return
        self.events.emit("payment", order=order["id"], way=way, ok=True)

    def invoiced_orders(self):
        """The awaited orders that now wait for their payment, with their open invoices."""
        with self.awaiting_lock:
            ids = list(self.awaiting)
        if not ids:
            return []
        rows = self.admin.call(
            "sale.order",
            "search_read",
            domain=[("id", "in", ids), ("q2c_state", "=", "paying")],
            fields=["invoice_ids"],
        )
        if not rows:
            return []
        moves = self.admin.call(
            "account.move",
            "search_read",
            domain=[
                ("id", "in", [i for row in rows for i in row["invoice_ids"]]),
                ("state", "=", "posted"),
                ("move_type", "=", "out_invoice"),
                ("payment_state", "in", ["not_paid", "partial"]),
            ],
            fields=["amount_residual"],
        )
        open_moves = {move["id"]: move for move in moves}
        ready = []
        for row in rows:
            invoices = [open_moves[i] for i in row["invoice_ids"] if i in open_moves]
            if invoices:
                with self.awaiting_lock:
                    order, way = self.awaiting.pop(row["id"])
                ready.append((way, order, invoices))
        return ready

    def payer(self):
        """Payments as they arrive, until the drain ends."""
        poll = self.spec["pay"]["poll"]
        while not self.stopping():
            started = time.time()
            while True:
                try:
                    way, order = self.payments.get_nowait()
                except queue.Empty:
                    break
                self.pay(way, order)
            try:
                for way, order, invoices in self.invoiced_orders():
                    self.pay(way, order, invoices)
            except (RpcError, requests.RequestException) as error:
                self.events.emit("client_error", actor="payer", error=short(error))
            time.sleep(max(0.0, poll - (time.time() - started)))
        with self.awaiting_lock:
            self.events.emit("payments_left", awaiting=len(self.awaiting), queued=self.payments.qsize())

    # -- daily jobs -------------------------------------------------------------------

    def jobs(self):
        spec = self.spec["jobs"]
        if spec["at"] >= self.spec["load_end"]:
            return
        pause = spec["at"] - time.time()
        if pause > 0:
            time.sleep(pause)
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")

        def direct(cron_id):
            try:
                self.admin.call("ir.cron", "method_direct_trigger", ids=[cron_id])
                self.events.emit("job_direct_done", cron=cron_id, ok=True)
            except (RpcError, requests.RequestException) as error:
                self.events.emit("job_direct_done", cron=cron_id, ok=False, error=short(error))

        for cron_id in spec["cron_ids"]:
            try:
                if spec["how"] == "direct":
                    threading.Thread(target=direct, args=(cron_id,), daemon=True).start()
                else:
                    self.admin.call("ir.cron.trigger", "create", vals_list=[{"cron_id": cron_id, "call_at": now}])
                self.events.emit("job_forced", cron=cron_id, how=spec["how"], ok=True)
            except (RpcError, requests.RequestException) as error:
                self.events.emit("job_forced", cron=cron_id, how=spec["how"], ok=False, error=short(error))

    # -- run --------------------------------------------------------------------------

    def run(self):
        spec = self.spec["accept"]
        self.steady_portal = list(spec["steady_portal"])
        self.steady_sales = list(spec["steady_sales"])
        self.events.emit("load_start")
        offering = [
            threading.Thread(target=self.steady, args=(self.spec["lead"]["rate"], self.lead), name="leads"),
            threading.Thread(target=self.tickets, name="tickets"),
            threading.Thread(target=self.steady, args=(spec["rate"], self.steady_accept), name="accept"),
            threading.Thread(target=self.burst, name="burst"),
            threading.Thread(target=self.jobs, name="jobs"),
        ]
        payer = threading.Thread(target=self.payer, name="payer")
        for thread in [*offering, payer]:
            thread.start()
        for thread in offering:
            thread.join()
        self.events.emit("offered_done")
        payer.join()
        self.events.emit("load_exit")
        self.events.close()


def main(argv):
    spec = json.loads(Path(argv[0]).read_text())
    load = Load(spec)
    try:
        load.run()
    except Exception:  # noqa: BLE001 - said in the events file, then the exit code
        load.events.emit("load_crash", error=traceback.format_exc())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
