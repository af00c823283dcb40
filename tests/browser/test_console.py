"""The merchandiser console in a real browser, against a live `chalice local` on DynamoDB Local: what a
merchandiser does on each screen, and what an attacker's data or a stale token cannot do."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
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
        return self.page.get_by_label("From"), self.page.get_by_label("To")

    def box(self) -> Any:
        return self.page.locator("main .scroll")

    def rows(self) -> Any:
        return self.box().locator("tbody tr")


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
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1366  # the page never scrolls sideways
    assert report.box().evaluate("box => box.scrollWidth > box.clientWidth")  # the table scrolls inside its box
    page.screenshot(path=str(shots / "points-report.png"), full_page=True)


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


SECTIONS = ("Catalog", "Orders", "Design review", "Event review", "Campaigns", "Audit log", "Points report", "Coupons")


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
