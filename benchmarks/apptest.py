"""Server-side page runs through Streamlit's AppTest: slider reruns, product page."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
from collections.abc import Iterator

from streamlit.testing.v1 import AppTest

from benchmarks.common import APP_PATH, PRODUCT, Result, Settings, demo_store, timed

PRODUCT_PAGE = "app_pages/product.py"
TIMEOUT_SECONDS = 120


def run(settings: Settings, size: int) -> list[Result]:
    """The overview rerun after a slider move, and a product page's first run."""
    store = demo_store(settings, size)
    with _environ(RELIABILITY_DB=str(store.path)), _quiet():
        return [_overview_rerun(settings, size), _product_first_run(settings, size)]


def _overview_rerun(settings: Settings, size: int) -> Result:
    at = AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT_SECONDS)
    at.run()
    _raise_on_exception(at)
    # Each move lands on a weight not seen before, so no cached summary helps.
    values = itertools.cycle(range(0, 101, 5))

    def move() -> None:
        at.slider(key="weight_runtime").set_value(next(values)).run()

    samples = timed(move, repeat=settings.repeat)
    _raise_on_exception(at)
    return Result(figure="overview_rerun", size=size, samples=samples)


def _product_first_run(settings: Settings, size: int) -> Result:
    def first_run() -> None:
        at = AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT_SECONDS)
        at.query_params["product"] = PRODUCT
        at.switch_page(PRODUCT_PAGE)
        at.run()
        _raise_on_exception(at)

    samples = timed(first_run, repeat=settings.repeat)
    return Result(
        figure="product_first_run",
        size=size,
        samples=samples,
        note=f"?product={PRODUCT}, data cache warm",
    )


def _raise_on_exception(at: AppTest) -> None:
    if at.exception:
        raise RuntimeError(f"the app raised: {at.exception[0].value}")


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # AppTest warns once per run that it is not a `streamlit run`; that is known.
    streamlit_logger = logging.getLogger("streamlit")
    level = streamlit_logger.level
    streamlit_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        streamlit_logger.setLevel(level)
