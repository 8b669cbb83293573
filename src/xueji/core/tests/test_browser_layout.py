"""A real Chromium walks every page of every role, at 1366 px (an office computer) and 375 px (a
teacher's phone) wide: the header is at most 64 px high (also in English), the menu and the
breadcrumb are there (on the phone the menu behind the header's button, which opens it), nothing
scrolls sideways (on the phone a wide table scrolls inside its own box; on the desktop none is
cut off), no label, heading, button or table cell is squeezed to one character a line, no list
dot stands beside a button, and the content security policy refuses nothing. Each page's HTML
(what a slow rural link carries beyond the cached static files) is weighed: the heaviest are
reported, and a page over 300 KB fails.

The pages are those of the URL conf, with the objects of the permission matrix's world
(xueji.access.tests.world) in the user's own area: each role at each level it is held at opens
the pages its role may open that it has not seen at another level, and every one that answers a
whole page (not a fragment, a file or a refusal) is walked.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from xueji.access.policy import allowed
from xueji.access.tests.test_matrix import Route, all_routes
from xueji.access.tests.test_matrix import _url as matrix_url
from xueji.access.tests.world import Actor, World
from xueji.testing.browser import chromium_context, sign_in_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1366, 375)
HEADER_MAX_PX = 64
PAGE_BUDGET_BYTES = 300 * 1024

# What is wrong with the page's layout at the window's width, as sentences (none: it is right).
LAYOUT_PROBLEMS = """
() => {
  const problems = [];
  const header = document.querySelector('.site-header');
  const height = header ? header.getBoundingClientRect().height : 0;
  if (!header || height > HEADER_MAX) problems.push(`the header is ${height} px high`);
  const menu = document.getElementById('side-nav');
  if (!menu || !menu.querySelector('a[href]')) problems.push('no menu');
  const button = document.querySelector('[data-menu-toggle]');
  const shown = (el) => !!el && el.getClientRects().length > 0;
  if (menu && !shown(menu) && !shown(button)) {
    problems.push('the menu is hidden and no menu button is shown');
  }
  const crumbs = document.getElementById('breadcrumbs');
  if (!shown(crumbs) || !crumbs.querySelector('li a')) problems.push('no breadcrumb');
  const width = document.documentElement.scrollWidth;
  if (width > innerWidth) {
    // Name the outermost elements that stick out, to say where to look.
    const out = [...document.querySelectorAll('body *')].filter((el) => {
      const box = el.getBoundingClientRect();
      return box.right > innerWidth + 1 && !(el.parentElement &&
        el.parentElement.getBoundingClientRect().right > innerWidth + 1);
    }).slice(0, 3).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (typeof el.className === 'string' && el.className.trim()
        ? '.' + el.className.trim().split(/\\s+/).join('.') : ''));
    problems.push(`scrolls sideways: ${width} px wide in ${innerWidth} (${out.join(', ')})`);
  }
  // On a desktop a table shows all its columns; only a phone scrolls one inside its box.
  if (innerWidth >= 1280) {
    for (const wrap of document.querySelectorAll('main .table-wrap')) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        const head = wrap.closest('section, .card');
        const title = head && head.querySelector('h2');
        const name = title ? ` (${title.textContent.trim().slice(0, 30)})` : '';
        problems.push(`a table is cut off${name}`);
      }
    }
  }
  for (const item of document.querySelectorAll('main li')) {
    const style = getComputedStyle(item);
    if (item.querySelector(':scope > .button, :scope > button') &&
        style.display === 'list-item' && style.listStyleType !== 'none') {
      problems.push('a list dot beside a button');
    }
  }
  const labels = 'main label, main th, main td, main dt, main legend, main button, ' +
    'main .button, main h1, main h2, #side-nav a, #breadcrumbs li';
  for (const el of document.querySelectorAll(labels)) {
    const text = el.textContent.replace(/\\s+/g, '');
    const box = el.getBoundingClientRect();
    // Not drawn: hidden, in a closed <details>, or a label for screen readers only (1 px).
    if (text.length < 2 || box.width < 2 || box.height < 2) continue;
    if (el.checkVisibility && !el.checkVisibility()) continue;
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    const line = parseFloat(style.lineHeight) || size * 1.3;
    // The box of the text itself (a cell is as high as its row, and has padding).
    const range = document.createRange();
    range.selectNodeContents(el);
    const ink = range.getBoundingClientRect();
    if (ink.width < 1.8 * size && ink.height > 1.8 * line) {
      problems.push(`"${text.slice(0, 16)}" wraps one character a line`);
    }
  }
  return problems;
}
""".replace("HEADER_MAX", str(HEADER_MAX_PX))

SETTLE = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


@pytest.fixture
def browser_context(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium_context(monkeypatch, locale="zh-CN", height=900) as context:
        yield context


# Addresses that answer a file, never a page: not opened.
FILES = re.compile(r"\.(xlsx|csv)$|<slug:fmt>$|/file$|evidence")


def _candidates(actor: Actor, routes: list[Route], done: set[str]) -> Iterator[Route]:
    """The pages the actor's role may open at its level and no user of the role opened yet."""
    for route in routes:
        if route.name in done or FILES.search(route.template):
            continue
        if route.action == "home" or (
            actor.role is not None and allowed(actor.role, route.action or "", actor.level)
        ):
            yield route


def _whole_page(response: Any) -> bool:
    """A page of the site (not a refusal, a redirect elsewhere, a fragment for htmx or a file)."""
    return (
        response is not None
        and response.status == 200
        and response.headers.get("content-type", "").startswith("text/html")
        and b'<main id="main"' in response.body()
    )


def _answer(response: Any) -> str:
    """Why an address answered no whole page, in a few words (for the walk's failure report)."""
    if response is None:
        return "no response"
    kind = response.headers.get("content-type", "")
    return f"{response.status} {kind.split(';')[0]}"


def _settle(page: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.evaluate(SETTLE)


def _menu_opens_on_a_phone(page: Any) -> list[str]:
    """On the phone the menu is behind the header's button: it opens, and Escape closes it."""
    menu, button = page.locator("#side-nav"), page.locator("[data-menu-toggle]")
    if menu.is_visible() or not button.is_visible():
        return ["on a phone the menu is not behind the menu button"]
    button.click()
    problems = [] if menu.is_visible() else ["the menu button does not open the menu"]
    if button.get_attribute("aria-expanded") != "true":
        problems.append("the open menu's button does not say so (aria-expanded)")
    page.keyboard.press("Escape")
    if menu.is_visible():
        problems.append("Escape does not close the menu")
    return problems


def _header_in_english(page: Any, live_server: Any) -> list[str]:
    """The same page in English (longer words): the header still fits one row at each width."""
    context = page.context
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}]
    )
    problems = []
    page.reload()
    for width in WIDTHS:
        _settle(page, width)
        height = page.locator(".site-header").bounding_box()["height"]
        if height > HEADER_MAX_PX:
            problems.append(f"in English the header is {height} px high at {width} px")
        if page.evaluate("() => document.documentElement.scrollWidth > innerWidth"):
            problems.append(f"in English the page scrolls sideways at {width} px")
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans", "url": live_server.url}]
    )
    return problems


def test_every_page_of_every_role_fits_a_desktop_and_a_phone(browser_context, live_server, capsys):
    from playwright.sync_api import Error as PlaywrightError

    world = World()
    started = time.monotonic()

    page = browser_context.new_page()
    refused_by_policy: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused_by_policy.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    weights: list[tuple[int, str, str]] = []
    failures: list[str] = []
    passed_over: list[str] = []  # addresses tried that answered no whole page, and why
    routes = [r for r in all_routes() if r.kind == "page" and r.action is not None]
    opened: dict[str | None, set[str]] = {}  # by role, the pages a user of the role opened
    users = tried = 0
    for actor in world.actors:
        done = opened.setdefault(actor.role, set())
        sign_in_session(browser_context, live_server, actor.user)
        first = True
        for route in list(_candidates(actor, routes, done)):
            url = matrix_url(route, actor.inside, actor)
            page.set_viewport_size({"width": WIDTHS[0], "height": 900})
            tried += 1
            try:
                response = page.goto(live_server.url + url)
            except PlaywrightError as error:  # a file sent as a download, or a timeout
                passed_over.append(f"{actor.name} {url}: {error.message.splitlines()[0]}")
                continue
            if not _whole_page(response):
                passed_over.append(f"{actor.name} {url}: {_answer(response)}")
                continue
            done.add(route.name)
            weights.append((len(response.body()), actor.name, url))
            try:
                for width in WIDTHS:
                    if width != WIDTHS[0]:
                        _settle(page, width)
                    for problem in page.evaluate(LAYOUT_PROBLEMS):
                        failures.append(f"{actor.name} {url} at {width} px: {problem}")
            except PlaywrightError as error:
                failures.append(f"{actor.name} {url}: {error.message.splitlines()[0]}")
                continue
            if first:
                once = _menu_opens_on_a_phone(page) + _header_in_english(page, live_server)
                failures += [f"{actor.name} {url}: {problem}" for problem in once]
                users, first = users + 1, False
    failures += refused_by_policy

    heavy = [
        f"{name} {url}: {size / 1024:.0f} KB"
        for size, name, url in weights
        if size > PAGE_BUDGET_BYTES
    ]
    weights.sort(reverse=True)
    widths = " and ".join(map(str, WIDTHS))
    with capsys.disabled():
        print(
            f"\nlayout walk: {len(weights)} pages of {users} users at {widths} px (of {tried}"
            f" addresses tried) in {time.monotonic() - started:.0f} s;"
            f" HTML weight: heaviest {weights[0][0] / 1024:.1f} KB, median"
            f" {weights[len(weights) // 2][0] / 1024:.1f} KB, budget {PAGE_BUDGET_BYTES // 1024} KB"
        )
        for size, name, url in weights[:5]:
            print(f"  {size / 1024:6.1f} KB  {name:28} {url}")
    assert len(weights) >= 150, f"only {len(weights)} pages walked; passed over:\n" + "\n".join(
        passed_over
    )
    assert not heavy, "pages over the budget:\n" + "\n".join(heavy)
    assert not failures, f"{len(failures)} layout problems:\n" + "\n".join(failures)
