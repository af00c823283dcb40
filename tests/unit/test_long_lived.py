"""What a container keeps is made with garbage collection paused; the collector must always come back on, or a
warm container would grow until Lambda kills it."""

from __future__ import annotations

import gc

import pytest

from chalicelib.bootstrap import long_lived


def test_collection_pauses_inside_and_resumes_after_even_when_the_build_fails():
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with long_lived():
            assert not gc.isenabled()
            raise RuntimeError("a client could not be built")
    assert gc.isenabled()


def test_what_was_made_inside_is_skipped_by_later_collections_and_a_paused_collector_stays_paused():
    frozen = gc.get_freeze_count()
    with long_lived():
        kept = [[i] for i in range(1000)]  # lists are tracked by the collector (small dicts may not be)
    assert gc.get_freeze_count() >= frozen + len(kept)
    gc.disable()
    try:
        with long_lived():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
