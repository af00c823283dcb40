"""The merchandiser console in a real browser, against a live `chalice local` on DynamoDB Local: what a
merchandiser does on each screen, and what an attacker's data or a stale token cannot do."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from chalicelib.api.console import CONSOLE_DIR, CSP
from tests.api.shop import ADDRESS, give_points
from tests.helpers import uid
from tools.streams import outbox_poller


class Console:
    """A page object: the console's screens as a merchandiser reaches them."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.url = url

    def open(self, screen: str = "") -> None:
        self.page.goto(f"{self.url}/console{'#/' + screen if screen else ''}")

    def sign_in(self, token: str) -> None:
        self.open()
        self.page.get_by_label(re.compile("Merchandiser token")).fill(token)
        self.page.get_by_role("button", name="Sign in").click()

    def go(self, section: str) -> None:
        self.page.get_by_role("navigation").get_by_role("link", name=section).click()

    def alert(self) -> Any:
        return self.page.get_by_role("alert")


class OrderScreen:
    """One order (#/orders/<id>): its heading with the status badge, its totals, the refund form."""

    def __init__(self, page: Any, order_id: str) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name=re.compile(re.escape(order_id)))

    def badge(self) -> Any:
        return self.heading.locator(".badge")

    def totals(self) -> Any:
        return self.page.locator("main .totals")

    def refund(self, reason: str) -> None:
        self.page.get_by_label("Refund reason").fill(reason)
        self.page.get_by_role("button", name="Refund").click()


class ReportScreen:
    """The points report (#/report): its range, and the table of days in its scrolling box."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def range(self) -> tuple[Any, Any]:
        return self.page.get_by_label("From", exact=True), self.page.get_by_label("To", exact=True)

    def box(self) -> Any:
        return self.page.locator("main .scroll").first  # the days' table; the tip flows' tables follow it

    def tip_flows(self) -> Any:
        return self.page.get_by_role("region", name="Tips to review")

    def rows(self) -> Any:
        return self.box().locator("tbody tr")


class PolicyScreen:
    """The issuance policy (#/policy): the version in force, the versions scheduled, the history and the editor of a
    new version (its fields are named after the lever: "Daily cap: fans", "post: Points")."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.in_force = page.get_by_role("region", name="In force", exact=True)
        self.scheduled = page.get_by_role("region", name="Scheduled", exact=True)
        self.history = page.get_by_role("region", name="History", exact=True)
        self.editor = page.get_by_role("region", name=re.compile("^New version"))

    def version(self, where: Any, number: int) -> Any:
        return where.locator("article", has=self.page.get_by_text(f"Version {number}", exact=True))

    def copy(self, number: int) -> None:
        """The history is newest first: Load more until version `number`'s copy shows."""
        button = self.history.get_by_role("button", name=f"Copy of version {number}", exact=True)
        rows = self.history.locator("tbody tr")
        expect(rows.first).to_be_visible()
        while button.count() == 0:
            shown = rows.count()
            self.history.get_by_role("button", name="Load more").click()
            expect(rows).not_to_have_count(shown)
        button.click()

    def new_version(self) -> None:
        self.in_force.get_by_role("button", name="Draft a new version").click()
        expect(self.editor).to_be_visible()

    def save_draft(self, note: str, effective_from: str = "") -> int:
        """Save the editor's draft (taking effect at `effective_from`, Shanghai time, else the next midnight there)."""
        if effective_from:
            self.page.get_by_label("Takes effect at (Shanghai time)").fill(effective_from)
        self.page.get_by_label("Note (why this version)").fill(note)
        self.page.get_by_role("button", name="Save draft").click()
        saved = self.editor.get_by_role("heading", name=re.compile(r"^Draft saved: version \d+"))
        expect(saved).to_be_visible()
        return int(re.search(r"version (\d+)", saved.inner_text()).group(1))

    def diff(self) -> Any:
        return self.editor.locator("table.diff tbody tr")


def console(page: Any, live_server: dict[str, Any]) -> Console:
    return Console(page, live_server["url"])


def merch_token(live_api: Any) -> str:
    return live_api.tokens("merch-console", "merchandiser")


def test_a_merchandiser_signs_in_and_a_fans_token_or_an_expired_one_is_refused(page, live_server, live_api, shots):
    c = console(page, live_server)
    c.open()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.screenshot(path=str(shots / "sign-in.png"))
    c.sign_in(live_api.tokens("fan-console"))
    expect(c.alert()).to_contain_text("not a merchandiser's")
    expect(page.get_by_role("navigation")).to_be_hidden()
    c.sign_in(live_api.tokens("merch-console", "merchandiser", lifetime_s=-60))
    expect(c.alert()).to_contain_text("not valid or has expired")
    c.sign_in(merch_token(live_api))
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="商品")).to_be_visible()
    page.get_by_role("button", name="English").click()
    # a token that expires mid-session: the next call is 401 and the console goes back to sign-in
    page.evaluate("t => sessionStorage.setItem('token', t)", live_api.tokens("merch-x", "merchandiser", lifetime_s=-1))
    page.reload()
    expect(c.alert()).to_contain_text("Your session ended")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_the_console_page_is_served_with_a_content_security_policy(live_api):
    r = live_api.get("/console")
    assert r.status == 200 and "text/html" in r.headers["Content-Type"]
    assert (
        "script-src 'self'" in r.headers["Content-Security-Policy"]
        and "unsafe-inline" not in r.headers["Content-Security-Policy"]
    )
    assert live_api.get("/console/secrets.txt").status == 404


def test_every_script_module_is_served_as_javascript_under_the_same_policy(live_api):
    """A browser runs a module script only when it comes as JavaScript (nosniff): each file of chalicelib/console
    is served with its type and the page's policy."""
    served = {path.name for path in CONSOLE_DIR.iterdir() if path.suffix in (".js", ".css")}
    assert {"app.js", "app.css", "api.js", "i18n.js", "dom.js"} <= served
    for name in sorted(served):
        r = live_api.get(f"/console/{name}")
        expected = "text/javascript" if name.endswith(".js") else "text/css"
        assert (r.status, r.headers["Content-Type"].split(";")[0]) == (200, expected), name
        assert r.headers["Content-Security-Policy"] == CSP and r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "name",
    ["nope.js", "index.html", "App.js", "app.js.map", "..%2Fapi%2Fconsole.py", "%2E%2E%2Fapp.py", "app.py", ".app.js"],
)
def test_a_name_that_is_not_a_console_file_is_404_and_nothing_outside_is_read(live_api, name):
    r = live_api.get(f"/console/{name}")
    assert (r.status, r.json["error"]["code"]) == (404, "not_found")


def test_create_a_product_with_two_skus_publish_it_and_adjust_stock_with_a_reason(page, live_server, live_api, shots):
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    page.get_by_role("link", name="New product").click()
    expect(page.get_by_role("heading", name="New product")).to_be_visible()
    title = f"Console umbrella {uid('u')}"
    page.get_by_label("Category").select_option("apparel")
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Chinese title").fill("纪念伞")
    page.get_by_role("button", name="Add a SKU").click()
    skus = [f"UMB-{uid('s').upper()}", f"UMB-{uid('s').upper()}"]
    for n, (sku, price) in enumerate(zip(skus, ("49.90", "59.9"), strict=False)):  # yuan, read as exact fen
        page.get_by_label("SKU", exact=True).nth(n).fill(sku)
        page.get_by_label("Price (¥)").nth(n).fill(price)
        page.get_by_label("Stock", exact=True).nth(n).fill("20")
    expect(page.get_by_text("= 499 Points")).to_be_visible()  # the live points price
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=re.compile(title))).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", name=re.compile(title))).to_contain_text("active")
    product_id = page.url.rsplit("/", 1)[1]
    published = live_api.get(f"/products/{product_id}").json
    assert (published["category"], published["skus"][1]["price_fen"]) == ("apparel", 5990)

    stock_form = page.locator(".card", has_text=f"SKU {skus[0]}")
    stock_form.get_by_label("Change (+/- units)").fill("-3")
    stock_form.get_by_label("Reason").fill("three damaged in the warehouse")
    stock_form.get_by_role("button", name="Adjust stock").click()
    expect(stock_form.locator(".stock-now")).to_have_text("17")
    page.screenshot(path=str(shots / "product-editor.png"), full_page=True)
    c.go("Audit log")
    row = page.locator("#audit tbody tr", has_text=skus[0]).first
    expect(row).to_contain_text("three damaged in the warehouse")
    page.screenshot(path=str(shots / "audit-log.png"))
    c.go("Catalog")
    page.get_by_label("Search by title").fill(title)
    expect(page.locator("tbody tr")).to_have_count(1)
    page.screenshot(path=str(shots / "catalog.png"))


def test_a_product_the_api_refuses_is_explained_in_words_naming_the_field(page, live_server, live_api):
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    page.get_by_role("link", name="New product").click()
    expect(page.get_by_role("heading", name="New product")).to_be_visible()
    page.get_by_label("Title", exact=True).fill("No price")
    page.get_by_label("Chinese title").fill("无价")
    page.get_by_label("SKU", exact=True).fill("not a sku!")
    page.get_by_label("Price (¥)").fill("10")
    page.get_by_role("button", name="Save").click()
    expect(c.alert()).to_contain_text("skus.0.sku")
    expect(c.alert()).not_to_contain_text('"error"')  # words, not the JSON body


def test_money_is_shown_in_yuan_and_typed_yuan_is_read_as_exact_fen(page, live_server):
    """format.js in the browser: fen as ¥ with two decimals, and typed yuan as whole fen without floating point
    (0.29 yuan is 29 fen, not 28.999...); anything else is refused, not guessed."""
    Console(page, live_server["url"]).open()
    shown, read = page.evaluate(
        """async () => {
          const f = await import("./console/format.js");
          return [[0, 5, 10, 4990, 89900, 123456789, -500].map(f.yuan),
                  ["49.90", "49.9", "0.29", "0.05", "899", " 7 ", "", "1,000", "4e3", "49.999", ".5", "-1"].map(f.fen)];
        }"""
    )
    assert shown == ["¥0.00", "¥0.05", "¥0.10", "¥49.90", "¥899.00", "¥1,234,567.89", "-¥5.00"]
    assert read == [4990, 4990, 29, 5, 89900, 700, None, None, None, None, None, None]


def test_the_policy_page_compares_policies_as_the_api_does_and_reads_percentages_exactly(page, live_server):
    """policy-rules.js in the browser: a scheduled version's changes against the one before it, computed in the
    page by dotted path (a task added or removed is one change), and rates typed as percentages without floating
    point (12.5 % is "0.125", 0.29 % is "0.0029"); anything else is refused, not guessed."""
    Console(page, live_server["url"]).open()
    changes, percents, rates, instants = page.evaluate(
        """async () => {
          const r = await import("./console/policy-rules.js");
          const before = {daily_caps: {fan: 3, owner: 20}, tasks: {post: {points: 5, tiers: ["fan"]}, share: {points: 1}},
                          expiry: null};
          const after = {daily_caps: {fan: 10, owner: 20}, tasks: {post: {points: 5, tiers: ["fan", "owner"]},
                         tea: {points: 2}}, expiry: {months: 12}};
          return [r.policyDiff(before, after).map((c) => [c.path, r.shown(c.before), r.shown(c.after)]),
                  ["0.1", "0.125", "1", "0", "0.000001", "1.0", "x"].map(r.ratePercent),
                  ["12.5", "0.29", "100", "0", " 7 ", "100.5", "101", "1,5", "-1", "", "12.34567"].map(r.percentRate),
                  ["2097-03-04T05:06", "2097-03-04T05:06:07", "2097-03-04", ""].map(r.shanghaiInstant)];
        }"""
    )
    assert changes == [
        ["daily_caps.fan", "3", "10"],
        ["expiry", "—", "months: 12"],
        ["tasks.post.tiers", "fan", "fan, owner"],
        ["tasks.share", "points: 1", "—"],
        ["tasks.tea", "—", "points: 2"],
    ]
    assert percents == ["10", "12.5", "100", "0", "0.0001", "100", "x"]
    assert rates == ["0.125", "0.0029", "1", "0", "0.07", None, None, None, None, None, None]
    assert instants == ["2097-03-04T05:06:00+08:00", "2097-03-04T05:06:07+08:00", None, None]


def test_approve_a_design_from_the_review_queue(page, live_server, live_api, shots):
    designer = uid("designer")
    design = live_api.post(
        "/designs",
        {
            "title": "Night-sky scarf",
            "description": "Silk, the stars over Hefei.",
            "category": "apparel",
            "image_urls": ["https://img.example.com/scarf.png"],
        },
        user=designer,
    ).json
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    c.go("Design review")
    card = page.locator("article", has_text="Night-sky scarf").first
    expect(card.get_by_role("img", name="Night-sky scarf")).to_have_attribute(
        "src", "https://img.example.com/scarf.png"
    )
    page.screenshot(path=str(shots / "design-review.png"))
    card.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_have_text("Approved")
    assert live_api.get("/me/designs", user=designer).json["items"][0]["status"] == "approved"
    assert design["design_id"] == live_api.get("/me/designs", user=designer).json["items"][0]["design_id"]


def test_approve_a_buyers_review_from_the_moderation_queue(page, live_server, live_api, shots):
    from tests.api.shop import ADDRESS, add_product, give_points

    services = live_server["container"]
    sku = add_product(services, price_fen=1000, stock=10, category="tech")
    buyer = uid("buyer")
    give_points(services, buyer, 100)
    body = {"items": [{"sku": sku, "qty": 1}], "points": 100, "shipping_address": ADDRESS}
    order = live_api.post("/orders", body, user=buyer, headers={"Idempotency-Key": uid("k")}).json
    parcel = {"skus": [sku], "carrier": "SF", "tracking_number": "SF123456789"}
    assert live_api.post(f"/partner/orders/{order['order_id']}/shipments", parcel, partner="warehouse").status == 200
    product = order["lines"][0]["product_id"]
    text = f"Keeps the rain off, review {uid('t')}"
    written = live_api.post(f"/products/{product}/reviews", {"order_id": order["order_id"], "sku": sku, "rating": 4,
                                                             "text": text}, user=buyer).json  # fmt: skip
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    c.go("Review moderation")
    card = page.locator("article", has_text=text)
    expect(card.get_by_role("heading")).to_have_text(f"★★★★☆ · {product}")
    page.screenshot(path=str(shots / "review-moderation.png"))
    card.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_have_text("Approved")
    public = live_api.get(f"/products/{product}/reviews").json
    assert public["rating"] == {"average": 4.0, "count": 1}
    assert [r["review_id"] for r in public["items"]] == [written["review_id"]]


def test_create_a_poll_then_read_a_closed_polls_three_tallies_and_publish_them(page, live_server, live_api, shots):
    from chalicelib.adapters.contribution_repo import ContributionRepository
    from chalicelib.adapters.polls_repo import PollRepository
    from chalicelib.domain import polls as rules
    from tools.reconcile import poll_differences

    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    c.go("Polls")
    form = page.locator("form", has_text="New poll")
    upcoming = uid("board").lower().replace("_", "-")
    opens = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).replace(microsecond=0)
    form.get_by_label("Poll id").fill(upcoming)
    form.get_by_label("Title", exact=True).fill("Elect the user trust's board")
    form.get_by_label("Chinese title").fill("选举用户信托理事会")
    form.get_by_label(re.compile("^Options")).fill("li=Li Wei\nwang=Wang Fang")
    form.get_by_label(re.compile("^Opens")).fill(opens.isoformat())
    form.get_by_label(re.compile("^Closes")).fill((opens + timedelta(days=7)).isoformat())
    form.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_have_text("Created")
    assert live_api.get(f"/polls/{upcoming}").json["status"] == "upcoming"

    # a poll that closed two minutes ago, its ballots written as the API writes them (the server's clock is real)
    repo = PollRepository(live_server["container"].table)
    closed = uid("closed").lower().replace("_", "-")
    now = datetime.now(ZoneInfo("UTC"))
    poll = {"poll_id": closed, "title": "Next NIO House", "title_zh": "下一家蔚来中心", "choices": 1,
            "options": [{"option_id": "x", "title": "Xiamen"}, {"option_id": "z", "title": "Zhuhai"}],
            "opens_at": rules.instant(now - timedelta(hours=2)), "closes_at": rules.instant(now - timedelta(minutes=2)),
            "eligibility": {"min_tier": "fan", "min_contribution": 0}, "weighting": "contribution",
            "weight_cap_share": "0.5", "created_by": "merch", "created_at": rules.instant(now - timedelta(hours=3))}  # fmt: skip
    tx = repo.begin()
    repo.add(tx, poll, on_repeat=RuntimeError("exists"))
    tx.commit()
    scores = ContributionRepository(live_server["container"].table)
    for user, weight, choice in ((uid("whale"), 1000, "x"), (uid("a"), 10, "z"), (uid("b"), 10, "z")):
        tx = scores.begin()  # the contribution the ballot was weighed by, earned before the opening
        scores.add(tx, {"entry_id": uid("c"), "user_id": user, "kind": "forum_answer", "ref": uid("ref"),
                        "amount": weight, "created_at": poll["created_at"]})  # fmt: skip
        tx.commit()
        ballot = {"poll_id": closed, "user_id": user, "choices": [choice], "weight": weight, "contribution": weight,
                  "cast_at": poll["opens_at"], "updated_at": poll["opens_at"], "version": 1}  # fmt: skip
        tx = repo.begin()
        repo.cast(tx, None, ballot, rules.tally_moves(None, ballot), on_sealed=RuntimeError("sealed"))
        tx.commit()
    page.reload()
    card = page.locator("article", has_text="Next NIO House")
    card.get_by_role("button", name="Results", exact=True).click()
    rows = card.get_by_role("table", name="Results").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Xiamen (x)")
    expect(rows.nth(0)).to_contain_text("20")  # the whale's 1000 capped at half of the total: 20 of 40
    expect(card).to_contain_text("largest voter's share: 0.5")
    page.screenshot(path=str(shots / "polls.png"))
    card.get_by_role("button", name="Publish results").click()
    expect(page.get_by_role("status")).to_have_text("Results published")
    results = live_api.get(f"/polls/{closed}/results").json
    assert results["published_at"] and [(o["option_id"], o["weighted"]) for o in results["options"]] == [
        ("x", 20),
        ("z", 20),
    ]
    assert poll_differences(live_server["container"].table) == []


def test_refund_an_order_and_read_the_points_report(page, live_server, live_api, shots):
    services = live_server["container"]
    body = {
        "product_id": uid("p"),
        "category": "food",
        "title": "Console tea",
        "title_zh": "茶",
        "status": "active",
        "skus": [{"sku": f"TEA-{uid('s').upper()}", "price_fen": 12340, "stock": 10}],
    }
    assert live_api.merch("POST", "/admin/products", body).status == 201
    buyer = uid("buyer")
    give_points(services, buyer, 1500)
    order = live_api.post(
        "/orders",
        {"items": [{"sku": body["skus"][0]["sku"], "qty": 1}], "points": 1234, "shipping_address": ADDRESS},
        user=buyer,
        headers={"Idempotency-Key": uid("console")},
    ).json
    unpaid = live_api.post(
        "/orders",
        {"items": [{"sku": body["skus"][0]["sku"], "qty": 1}], "points": 0, "shipping_address": ADDRESS},
        user=buyer,
        headers={"Idempotency-Key": uid("console")},
    ).json
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    c.go("Orders")
    page.get_by_label("Status").select_option(label="pending payment")
    badge = page.locator("tr", has_text=unpaid["order_id"]).locator(".badge")
    expect(badge).to_have_text("pending payment")  # once, in words, not "pending payment · pending_payment"
    expect(badge).to_have_attribute("title", "pending_payment")
    page.get_by_label("Status").select_option("paid")
    expect(page.locator("tr", has_text=order["order_id"])).to_contain_text("¥123.40")  # 12340 fen
    page.get_by_role("link", name=order["order_id"]).click()
    shown = OrderScreen(page, order["order_id"])
    expect(shown.badge()).to_have_text("paid")  # one label ("paid", not "paid · paid"); the code is its title
    expect(shown.badge()).to_have_attribute("title", "paid")
    expect(shown.totals()).to_have_text("Subtotal: ¥123.40 · Discount: ¥0.00 · Points: 1234 · Cash: ¥0.00")
    page.screenshot(path=str(shots / "order.png"), full_page=True)
    shown.refund("customer changed their mind")
    expect(shown.badge()).to_have_text("refunded")
    assert live_api.get("/me", user=buyer).json["points"]["available"] == 1500

    outbox_poller(services).poll()  # what the stream's Lambda does on AWS
    # points in this month's lot, as the ledger consumer counts them with expiry on (the live policy has none)
    services.table.client.update_item(
        TableName=services.table.name,
        Key={"pk": {"S": "PREPORT#00"}, "sk": {"S": "LOTS"}},
        UpdateExpression="ADD #lot :n",
        ExpressionAttributeNames={"#lot": datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")},
        ExpressionAttributeValues={":n": {"N": "1234"}},
    )
    page.set_viewport_size({"width": 1366, "height": 860})  # a common laptop: the report's table is wider
    c.go("Points report")
    report = ReportScreen(page)
    expect(page.locator("svg.chart")).to_be_visible()
    today_in_shanghai = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the last 30 of the shop's days
    start, end = report.range()
    expect(start).to_have_value((today_in_shanghai - timedelta(days=29)).isoformat())
    expect(end).to_have_value(today_in_shanghai.isoformat())
    expect(report.rows()).to_have_count(31)  # 30 days and the totals
    today = report.rows().nth(-2)  # the last day (today), before the totals
    expect(today).to_contain_text(str(live_api.merch("GET", "/admin/points/report").json["days"][-1]["outstanding"]))
    expect(report.rows().last.locator("td").first).to_have_text("Totals")
    expect(report.box().get_by_role("columnheader", name="Burned")).to_be_visible()
    expect(page.locator("#breakage")).to_have_text(re.compile(r"^Breakage rate: \d+\.\d\d% \("))
    soon = live_api.merch("GET", "/admin/points/report").json["expiring"]  # this month's lot, seeded above
    assert soon["days_90"] >= 1_234
    expect(page.locator("#expiring")).to_have_text(
        f"Points expiring: within 30 days {soon['days_30']} · within 60 days {soon['days_60']} · "
        f"within 90 days {soon['days_90']}"
    )
    flows = live_api.merch("GET", "/admin/tips/flows?days=7").json
    expect(report.tip_flows().locator("tbody tr")).to_have_count(len(flows["largest"]) + len(flows["reciprocal"]))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1366  # the page never scrolls sideways
    assert report.box().evaluate("box => box.scrollWidth > box.clientWidth")  # the table scrolls inside its box
    page.screenshot(path=str(shots / "points-report.png"), full_page=True)


SHANGHAI = ZoneInfo("Asia/Shanghai")


def in_force(live_api: Any) -> dict[str, Any]:
    """The version in force on the live server: always version 1 (tests there schedule only decades ahead)."""
    version = live_api.merch("GET", "/admin/policy").json["in_force"]
    assert version["version"] == 1, version
    return version


def percent(rate: str) -> str:
    return f"{(Decimal(rate) * 100).normalize():f}"


def utc(local: str) -> str:
    """A datetime-local value read as Shanghai time, as the API stores the instant."""
    moment = datetime.fromisoformat(local).replace(tzinfo=SHANGHAI).astimezone(ZoneInfo("UTC"))
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stored(live_api: Any, number: int) -> dict[str, Any]:
    versions = live_api.merch("GET", "/admin/policy/versions?limit=100").json["items"]
    return next(v for v in versions if v["version"] == number)


def test_the_policy_screen_shows_the_version_in_force_with_its_caps_tasks_and_levers(page, live_server, live_api):
    v1 = in_force(live_api)
    policy = v1["policy"]
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    c.go("Policy")
    screen = PolicyScreen(page)
    expect(screen.in_force.get_by_text("Version 1", exact=True)).to_be_visible()
    expect(screen.in_force.locator(".badge")).to_have_text("in force")
    caps = screen.in_force.locator("table.caps tbody tr")
    for tier, words in (("fan", "fans"), ("deposit", "deposit holders"), ("owner", "owners")):
        expect(caps.filter(has_text=words).locator("td")).to_have_text([words, str(policy["daily_caps"][tier])])
    tasks = screen.in_force.locator("table.tasks tbody tr")
    expect(tasks).to_have_count(len(policy["tasks"]))
    for name in ("checkin", "charging"):
        task = policy["tasks"][name]
        expect(tasks.filter(has=page.get_by_text(name, exact=True)).locator("td")).to_have_text(
            [
                name,
                task["title"],
                task["title_zh"],
                str(task["points"]),
                "yes" if task["capped"] else "no",
                str(task["per_day"]),
                ", ".join({"fan": "fans", "deposit": "deposit holders", "owner": "owners"}[t] for t in task["tiers"]),
                str(task["contribution"]),
            ]
        )
    levers = screen.in_force.locator("table.levers")
    expect(levers).to_contain_text(f"Royalty rate (%){percent(policy['royalty_rate'])}%")
    expect(levers).to_contain_text(f"Host's share of an event (%){percent(policy['event_host_share'])}%")
    expect(levers).to_contain_text(f"points an account may send a day{policy['envelopes']['daily_send_points']}")


def test_editing_the_fan_cap_and_a_tasks_points_saves_a_draft_showing_those_two_changes(page, live_server, live_api):
    policy = in_force(live_api)["policy"]
    fan, post = policy["daily_caps"]["fan"], policy["tasks"]["post"]["points"]
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    c.go("Policy")
    screen = PolicyScreen(page)
    screen.new_version()
    expect(screen.editor.get_by_role("heading", name="New version: a copy of version 1")).to_be_focused()
    page.get_by_label("Daily cap: fans").fill(str(fan + 7))
    page.get_by_label("post: Points", exact=True).fill(str(post + 3))
    number = screen.save_draft("a winter phase")
    expect(screen.diff()).to_have_count(2)
    expect(screen.diff().nth(0).locator("td")).to_have_text(["daily_caps.fan", str(fan), str(fan + 7)])
    expect(screen.diff().nth(1).locator("td")).to_have_text(["tasks.post.points", str(post), str(post + 3)])
    expect(screen.editor.locator("h3 .badge")).to_have_text("draft")
    draft = stored(live_api, number)
    midnight = (datetime.now(SHANGHAI) + timedelta(days=1)).strftime("%Y-%m-%dT00:00")  # the editor's default
    assert (draft["status"], draft["effective_from"], draft["note"]) == ("draft", utc(midnight), "a winter phase")
    assert in_force(live_api)["policy"] == policy  # a draft changes nothing


def test_scheduling_a_draft_less_than_a_minute_ahead_is_refused_in_words(page, live_server, live_api):
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    c.go("Policy")
    screen = PolicyScreen(page)
    screen.new_version()
    number = screen.save_draft("too soon", datetime.now(SHANGHAI).strftime("%Y-%m-%dT%H:%M"))
    expect(screen.editor).to_contain_text("No lever changes.")
    screen.editor.get_by_role("button", name=f"Schedule version {number}").click()
    alert = screen.editor.get_by_role("alert")
    expect(alert).to_contain_text("Too soon: a version is scheduled at least a minute ahead")
    expect(alert).not_to_contain_text("too_soon")  # words, not the code
    assert stored(live_api, number)["status"] == "draft"


def test_a_draft_scheduled_far_ahead_moves_to_the_scheduled_list(page, live_server, live_api, shots):
    policy = in_force(live_api)["policy"]
    rng = random.Random()  # the live tables are the session's: an instant no other test schedules (2098 is taken)
    local = f"2097-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    c.go("Policy")
    screen = PolicyScreen(page)
    screen.new_version()
    name = page.get_by_label("New task's name (a-z, 0-9, _)")
    name.fill("Tea Ceremony")
    page.get_by_role("button", name="Add a task").click()
    expect(screen.editor.get_by_role("alert")).to_contain_text("a lowercase letter, then 1 to 39")
    name.fill("tea_ceremony")
    page.get_by_role("button", name="Add a task").click()
    expect(page.get_by_label("tea_ceremony: Title", exact=True)).to_be_focused()
    page.get_by_label("tea_ceremony: Title", exact=True).fill("Tea ceremony")
    page.get_by_label("tea_ceremony: Chinese title", exact=True).fill("茶道")
    page.get_by_label("tea_ceremony: Points", exact=True).fill("4")
    page.get_by_label("tea_ceremony: fans", exact=True).uncheck()
    page.get_by_role("button", name="Remove feedback").click()
    page.get_by_label("Royalty rate (%)").fill("12.5")
    number = screen.save_draft("a tea season", local)
    paths = ["royalty_rate", "tasks.feedback", "tasks.tea_ceremony"]
    expect(screen.diff().locator("td:first-child")).to_have_text(paths)
    screen.editor.get_by_role("button", name=f"Schedule version {number}").click()
    expect(page.get_by_role("status")).to_have_text(f"Scheduled: version {number}")
    card = screen.version(screen.scheduled, number)
    expect(card.locator(".badge")).to_have_text("scheduled")
    expect(card).to_contain_text(f"{local.replace('T', ' ')}:00 +08:00")
    expect(card.locator("table.diff tbody tr td:first-child")).to_have_text(paths)  # against version 1, in the page
    waiting = {v["version"]: v for v in live_api.merch("GET", "/admin/policy").json["scheduled"]}
    assert waiting[number]["effective_from"] == utc(local)
    assert waiting[number]["policy"]["royalty_rate"] == "0.125"
    assert waiting[number]["policy"]["tasks"]["tea_ceremony"]["tiers"] == ["deposit", "owner"]
    assert "feedback" not in waiting[number]["policy"]["tasks"] and in_force(live_api)["policy"] == policy
    page.reload()  # without the toast over the tasks
    expect(card.locator("table.diff")).to_be_visible()
    page.screenshot(path=str(shots / "policy.png"), full_page=True)


def test_a_copy_of_version_1_from_the_history_opens_the_editor_with_its_values(page, live_server, live_api):
    policy = in_force(live_api)["policy"]
    payload = '<img src=x onerror="window.__pwned=1">'
    note = f"roll back {payload}"
    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).strftime("%Y-%m-%dT00:00:00+08:00")
    body = {"policy": policy, "effective_from": tomorrow, "note": note}
    assert live_api.merch("POST", "/admin/policy/versions", body).status == 201
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    c.go("Policy")
    screen = PolicyScreen(page)
    expect(screen.history.get_by_text(note, exact=True).first).to_be_visible()  # the note as text, never run
    screen.copy(1)
    expect(screen.editor.get_by_role("heading", name="New version: a copy of version 1")).to_be_focused()
    for tier, words in (("fan", "fans"), ("deposit", "deposit holders"), ("owner", "owners")):
        expect(page.get_by_label(f"Daily cap: {words}")).to_have_value(str(policy["daily_caps"][tier]))
    for name, task in policy["tasks"].items():
        expect(page.get_by_label(f"{name}: Points", exact=True)).to_have_value(str(task["points"]))
        expect(page.get_by_label(f"{name}: Per day", exact=True)).to_have_value(str(task["per_day"]))
    expect(page.get_by_label("charging: owners", exact=True)).to_be_checked()
    expect(page.get_by_label("charging: fans", exact=True)).not_to_be_checked()
    expect(page.get_by_label("post: Capped", exact=True)).to_be_checked()
    expect(page.get_by_label("Royalty rate (%)")).to_have_value(percent(policy["royalty_rate"]))
    expect(page.get_by_label("Referral: purchase (points)")).to_have_value(str(policy["referral_points"]["purchase"]))
    assert page.evaluate("() => window.__pwned") is None and page.locator("img[src='x']").count() == 0


def test_a_draft_shows_what_it_would_have_issued_before_it_is_scheduled(page, live_server, live_api):
    live_api.post("/me/checkins", user=f"dry-{uid('u')}")  # today has at least one task completion to replay
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    c.go("Policy")
    screen = PolicyScreen(page)
    screen.new_version()
    page.get_by_label("checkin: Points", exact=True).fill("9")
    number = screen.save_draft("a generous check-in", "2096-06-01T00:00")
    panel = screen.editor.get_by_role("region", name="Dry-run: what this version would have issued")
    panel.get_by_label("Days back (1-90)").fill("1")
    panel.get_by_role("button", name="Dry-run").click()
    totals = panel.locator("table.dry-run tbody tr").last
    expect(totals.locator("td").first).to_have_text("Totals")
    answer = live_api.merch("POST", f"/admin/policy/versions/{number}/dry-run?days=1").json  # nothing changed since
    expect(totals.locator("td")).to_have_text(
        ["Totals", str(answer["issued"]), str(answer["would_issue"]), str(answer["change"])]
    )
    assert answer["change"] > 0, "9 points a check-in instead of the version in force's"
    expect(panel.locator("svg.chart rect")).to_have_count(2 * len(answer["sources"]))  # issued, would issue
    fen = answer["liability_change_fen"]
    expect(panel).to_contain_text(
        f"Liability change: {'-' if fen < 0 else ''}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"
    )
    expect(screen.editor.get_by_role("button", name=f"Schedule version {number}")).to_be_visible()  # not scheduled
    assert number not in {v["version"] for v in live_api.merch("GET", "/admin/policy").json["scheduled"]}
    panel.get_by_label("Days back (1-90)").fill("91")
    panel.get_by_role("button", name="Dry-run").click()
    expect(panel.get_by_role("alert")).to_be_visible()


def test_a_slow_answer_to_an_older_render_never_replaces_the_newer_screen(page, live_server, live_api):
    """What a flaky run showed us: switching the language while a screen was still loading drew the screen twice,
    and the older draw, finishing last, wiped out the editor the merchandiser had opened on the newer one."""
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    held: list[Any] = []

    def hold_the_first(route: Any) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)  # answered at the end of the test, after the newer screen is in use

    page.route(f"{live_server['url']}/admin/policy", hold_the_first)
    c.go("Policy")
    page.get_by_role("button", name="中文").click()
    page.get_by_role("button", name="起草新版本").click()
    editor = page.get_by_role("heading", name="新版本：复制自版本 1")
    expect(editor).to_be_focused()
    assert len(held) == 1
    with page.expect_response(f"{live_server['url']}/admin/policy"):
        held[0].continue_()
    page.evaluate("() => new Promise((done) => setTimeout(done, 100))")  # the older render's last step runs
    expect(editor).to_be_visible()
    page.unroute_all(behavior="wait")


def test_the_policy_screen_speaks_chinese_after_switching_language(page, live_server, live_api):
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    c.go("Policy")
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="积分政策")).to_be_visible()
    expect(page.get_by_role("heading", name="积分政策", exact=True)).to_be_visible()
    now = page.get_by_role("region", name="生效中的版本")
    expect(now.get_by_text("版本 1", exact=True)).to_be_visible()
    expect(now.locator(".badge")).to_have_text("生效中")
    expect(now.locator("table.tasks thead")).to_contain_text("每日次数")
    expect(now.locator("table.caps tbody")).to_contain_text("粉丝")
    expect(page.get_by_role("region", name="历史版本")).to_be_visible()
    now.get_by_role("button", name="起草新版本").click()
    expect(page.get_by_role("heading", name="新版本：复制自版本 1")).to_be_focused()
    expect(page.get_by_label("生效时间（北京时间）")).to_be_visible()
    expect(page.get_by_role("button", name="保存草稿")).to_be_visible()


def test_html_in_a_title_or_a_description_is_shown_as_text_never_run(page, live_server, live_api):
    payload = '<img src=x onerror="window.__pwned=1">'
    body = {
        "product_id": uid("p"),
        "category": "tech",
        "title": f"Evil {payload}",
        "title_zh": payload,
        "skus": [{"sku": f"EVIL-{uid('s').upper()}", "price_fen": 1000, "stock": 1}],
    }
    assert live_api.merch("POST", "/admin/products", body).status == 201
    live_api.post(
        "/designs",
        {
            "title": "Evil design",
            "description": f"<script>window.__pwned=2</script>{payload}",
            "category": "tech",
            "image_urls": ["https://img.example.com/x.png"],
        },
        user=uid("d"),
    )
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    page.get_by_label("Search by title").fill("Evil")
    expect(page.get_by_text(f"Evil {payload}")).to_be_visible()
    c.go("Design review")
    expect(page.get_by_text("<script>window.__pwned=2</script>", exact=False)).to_be_visible()
    page.get_by_role("link", name=re.compile("Evil")).count()
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("img[src='x']").count() == 0


SECTIONS = (
    "Catalog",
    "Home & search",
    "Orders",
    "Design review",
    "Review moderation",
    "Event review",
    "NIO Houses",
    "Campaigns",
    "Audit log",
    "Points report",
    "Policy",
    "Coupons",
)


def test_every_screen_loads_and_names_its_fields(page, live_server, live_api, shots):
    """Every module loads under the page's policy: no script error and no refused script or style on any screen.
    (Images of other tests' designs are on hosts that do not resolve: a failed load is not a problem here.)"""
    problems: list[str] = []

    def console_error(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", console_error)
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    for section in SECTIONS:
        c.go(section)
        expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
        expect(page.get_by_role("alert")).to_have_count(0)
    cid = uid("cpn")
    page.get_by_label("Coupon id").last.fill(cid)
    page.get_by_label("Title", exact=True).fill("¥5 off")
    page.get_by_label("Amount off (¥)").fill("5")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("tr", has_text=cid)).to_contain_text("¥5.00")
    page.screenshot(path=str(shots / "coupons.png"), full_page=True)
    page.reload()  # by keyboard: the skip link comes first and lands on the screen's content
    expect(page.get_by_role("heading", name="Coupons", exact=True)).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    expect(page.get_by_role("heading", name="Coupons", exact=True)).to_be_visible()
    assert problems == []


def test_the_console_works_behind_api_gateways_stage_path(page, live_server, live_api):
    """On AWS the API (and so the console) is under the stage's path, /api: every request the page makes must
    stay under it. Here /api/* is forwarded to the live server, and anything outside it is refused."""
    url = live_server["url"]
    outside: list[str] = []

    def forward(route: Any) -> None:
        route.fulfill(response=route.fetch(url=route.request.url.replace(f"{url}/api/", f"{url}/", 1)))

    def refuse(route: Any) -> None:
        outside.append(route.request.url)
        route.abort()

    page.route(f"{url}/**", refuse)
    page.route(f"{url}/api/**", forward)
    page.goto(f"{url}/api/console")
    page.get_by_role("button", name="Use the demo merchandiser token (stage local)").click()
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    Console(page, url).go("Orders")
    expect(page.locator("main table").or_(page.get_by_text("Nothing here yet."))).to_be_visible()
    page.unroute_all(behavior="wait")
    assert outside == []


def hosted_reply(page: Any, url: str, sent_state: str, id_token: str, reply_state: str) -> Any:
    """The browser coming back from the hosted sign-in: one fresh tab whose session already holds the state this
    console sent, loaded once on the reply URL. (A goto that changes only the fragment of an open console may or
    may not reload it, at the browser's choice; a reload racing the first load's reply handling read an emptied
    state on a new machine.)"""
    tab = page.context.new_page()
    tab.set_default_timeout(15_000)
    tab.add_init_script(f"sessionStorage.setItem('signin_state', {sent_state!r})")
    tab.goto(f"{url}/console#id_token={id_token}&state={reply_state}")
    return tab


def test_a_hosted_sign_in_reply_is_checked_like_a_pasted_token(page, live_server, live_api):
    url = live_server["url"]
    fan = hosted_reply(page, url, "abc123", live_api.tokens("fan-h"), "abc123")
    expect(fan.get_by_role("alert")).to_contain_text("not a merchandiser's")
    forged = hosted_reply(page, url, "abc123", merch_token(live_api), "forged")
    expect(forged.get_by_role("alert")).to_contain_text("did not match")
    merch = hosted_reply(page, url, "xyz789", merch_token(live_api), "xyz789")
    expect(merch.get_by_role("heading", name="Catalog")).to_be_visible()
    merch.goto(f"{url}/console#/products/%E0%A4%A")  # a malformed address: the catalog, not a stuck page
    expect(merch.get_by_role("heading", name="Catalog")).to_be_visible()


def test_long_lists_page_on_with_load_more(page, live_server, live_api):
    for n in range(55):  # 55 merchandiser actions: more than one page of the audit log (50)
        assert (
            live_api.merch(
                "POST", "/admin/campaigns", {"campaign_id": uid("pg"), "name": f"Paging {n}", "budget_points": 10}
            ).status
            == 201
        )
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    c.go("Audit log")
    rows = page.locator("#audit tbody tr")
    expect(rows).to_have_count(50)
    page.get_by_role("button", name="Load more").click()
    expect(rows.nth(54)).to_be_visible()
    c.go("Campaigns")
    expect(page.locator("main table")).to_contain_text("Paging 54")


def test_a_hosted_sign_in_error_shows_a_fixed_message_never_the_replys_own_words(page, live_server):
    """The reply's error and error_description come from the URL, which anyone can craft and send a merchandiser:
    the console says in its own words that sign-in failed, and shows none of the reply's text."""
    lure = "Your account is locked: call +86 400 000 0000 and read out your code"
    for error in ("access_denied", "server_error", "<b>urgent</b>"):
        tab = page.context.new_page()
        tab.set_default_timeout(15_000)
        tab.add_init_script("sessionStorage.setItem('signin_state', 'abc123')")
        tab.goto(f"{live_server['url']}/console#error={quote(error)}&error_description={quote(lure)}&state=abc123")
        alert = tab.get_by_role("alert")
        expect(alert).to_contain_text("The sign-in page did not sign you in")
        text = tab.locator("main").inner_text()
        assert "400 000" not in text and "urgent" not in text and error not in text, text
        tab.close()


def test_a_merchandiser_curates_an_owners_collection_and_sees_the_home_as_each_tier_sees_it(
    page, live_server, live_api, shots
):
    pid = uid("lamp")
    product = {
        "product_id": pid,
        "category": "home",
        "title": "Aurora Lamp",
        "title_zh": "极光灯",
        "status": "active",
        "skus": [{"sku": uid("LAMP").upper(), "price_fen": 19900, "stock": 5}],
    }
    assert live_api.merch("POST", "/admin/products", product).status == 201
    live_api.get("/products/search?q=%E6%9E%81%E5%85%89%E7%81%AF")  # 极光灯: a search to count
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    c.go("Home & search")
    expect(page.get_by_role("heading", name="Home & search", exact=True)).to_be_visible()
    form = page.locator("form[data-form=collection]")
    cid = uid("owners")
    form.get_by_label("ID", exact=True).fill(cid)
    form.get_by_label("Title", exact=True).fill("For owners")
    form.get_by_label("Chinese title").fill("车主专享")
    form.get_by_label("Product IDs (comma-separated, in order)").fill(pid)
    form.get_by_label("Audience").select_option("owners")
    form.get_by_role("button", name="Create").click()
    expect(page.locator("tr", has_text=cid)).to_contain_text("Owners only")
    owner = page.locator("[data-preview=owner]")
    expect(owner).to_contain_text("For owners: 极光灯")  # (renamed below)
    expect(page.locator("[data-preview=fan]")).not_to_contain_text("For owners")
    stored = next(x for x in live_api.merch("GET", "/admin/collections").json["items"] if x["collection_id"] == cid)
    assert stored["audience"] == "owners" and stored["product_ids"] == [pid]
    page.locator("tr", has_text=cid).get_by_role("button", name="Edit").click()
    editor = page.locator("form[data-form=collection]")
    expect(editor.get_by_role("heading")).to_have_text(f"Edit collection {cid}")
    expect(editor.get_by_label("ID", exact=True)).to_be_disabled()
    editor.get_by_label("Title", exact=True).fill("Owners' picks")
    editor.get_by_role("button", name="Save").click()
    expect(page.locator("tr", has_text=cid)).to_contain_text("Owners' picks / 车主专享")
    stored = next(x for x in live_api.merch("GET", "/admin/collections").json["items"] if x["collection_id"] == cid)
    assert stored["title"] == "Owners' picks" and stored["audience"] == "owners" and stored["product_ids"] == [pid]
    expect(page.locator("#toast")).to_have_text("")  # the edit's "Saved" has gone: the next one is the synonyms'
    synonyms = page.get_by_label("Groups")
    synonyms.fill("雨伞, umbrella\nbrolly, umbrella")
    page.locator("form", has=synonyms).get_by_role("button", name="Save").click()
    expect(page.locator("#toast")).to_have_text("Saved")
    assert live_api.merch("GET", "/admin/search/synonyms").json["groups"] == [
        ["雨伞", "umbrella"],
        ["brolly", "umbrella"],
    ]
    expect(page.locator("table", has_text="极光灯").first).to_be_visible()  # what shoppers searched for
    page.screenshot(path=str(shots / "home-and-search.png"), full_page=True)
    bad = page.locator("form[data-form=banner]")
    bad.get_by_label("ID", exact=True).fill(uid("b"))
    bad.get_by_label("Title", exact=True).fill("Bad")
    bad.get_by_label("Chinese title").fill("坏")
    bad.get_by_label("Image URL (https)").fill("https://img.example/x.jpg")
    bad.get_by_label("Link").fill("javascript:alert(1)")
    bad.get_by_role("button", name="Create").click()
    expect(bad.get_by_role("alert")).to_contain_text("link")
    live_api.merch("DELETE", f"/admin/collections/{cid}")


def test_a_houses_day_shows_who_booked_each_slot_and_a_book_comes_back_from_loan(page, live_server, live_api, shots):
    services = live_server["container"]
    house = uid("house")
    live_api.merch(
        "POST",
        "/admin/merchants",
        {"merchant_id": house, "name": "NIO House", "name_zh": "蔚来中心", "kind": "nio_house"},
    )
    week = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    room = {
        "resource_id": uid("room"),
        "house": house,
        "kind": "room",
        "title": "Meeting room",
        "title_zh": "会议室",
        "capacity": 1,
        "slot_minutes": 60,
        "hours": {d: ["10:00-22:00"] for d in week},
        "price_fen_per_slot": 1000,
    }
    book = {**room, "resource_id": uid("book"), "kind": "book", "title": "Three-Body", "title_zh": "三体", "capacity": 2,
            "slot_minutes": 1440, "hours": {d: ["00:00-24:00"] for d in week}}  # fmt: skip
    for resource in (room, book):
        assert live_api.merch("POST", "/admin/resources", resource).status == 201
    day = (datetime.now(SHANGHAI).date() + timedelta(days=2)).isoformat()
    reader = uid("reader")
    give_points(services, reader, 1_000)
    lines = [
        {"booking": {"resource_id": room["resource_id"], "date": day, "start": "14:00", "slots": 2}},
        {"booking": {"resource_id": book["resource_id"], "date": day, "start": "00:00", "slots": 3}},
    ]
    r = live_api.post("/orders", {"items": lines, "points": 230}, user=reader, headers={"Idempotency-Key": uid("k")})
    assert r.status == 201, r.json
    c = console(page, live_server)
    c.sign_in(merch_token(live_api))
    c.go("NIO Houses")
    page.get_by_label("House", exact=True).fill(house)
    page.get_by_label("Day", exact=True).fill(day)
    page.get_by_role("button", name="Show").click()
    slots = page.get_by_role("region", name="Meeting room")
    expect(slots.locator("tr", has_text="14:00")).to_contain_text(reader)
    expect(slots.locator("tr", has_text="16:00")).not_to_contain_text(reader)
    on_loan = page.get_by_role("region", name="Three-Body").locator("tr", has_text="00:00")
    expect(on_loan).to_have_text(re.compile(f"^00:00\\s*1\\s*{reader} \\(o-[0-9a-f]+\\)$"))  # once: its first day
    loans = page.get_by_role("region", name="Books on loan")
    mine = loans.locator("tr", has_text=reader)
    expect(mine).to_contain_text("Three-Body")
    page.screenshot(path=str(shots / "houses.png"), full_page=True)
    mine.get_by_role("button", name="Returned").click()
    expect(loans.locator("tr", has_text=reader)).to_have_count(0)
    assert all(x["user_id"] != reader for x in live_api.merch("GET", "/admin/loans").json["items"])
