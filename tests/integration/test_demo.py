"""`make run`'s demo data, on a fresh store and again on its own: the demo members are a year old (old enough to
tip), fan-1's design is in the gallery, the demo house has a room and a book, and a second run adds nothing."""

from __future__ import annotations

from tools import demo


def test_the_demo_is_set_up_once_with_what_the_feature_pages_use(services):
    demo.set_up(services)
    demo.set_up(services)
    assert all(services.accounts.load(u).created_at == demo.MEMBERS_SINCE for u in demo.DEMO_POINTS)
    designs = services.designs.page(10, None, designer_id="fan-1").items
    assert [d.status for d in designs] == ["approved"]
    rooms = services.bookings.of_house("nio-house-sh").items
    assert sorted(r.resource_id for r in rooms) == ["book-three-body", "room-jingan-1"]
    assert services.points.me("owner-1").points.available == 5_000
