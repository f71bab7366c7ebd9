"""The web chat in a real headless Chromium (Playwright): ask, follow up, upload, and stay inert to hostile reports.

Screenshots go to artifacts/ (gitignored); TIPQA_UPDATE_SCREENSHOT=1 also copies the answer to docs/screenshot.png.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from .conftest import CANONICAL, ROOT
from .web_server import DATA, start_server

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def server(tmp_path_factory, real_embedder):
    running = start_server(tmp_path_factory.mktemp("browser"), real_embedder)
    yield running
    running.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("needs Debian chromium at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class Page:
    """One browser tab on the app that records dialogs and console errors (a hostile report must cause none)."""

    def __init__(self, browser, url: str, width: int = 1280, height: int = 900):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text))
        self.page.goto(url)
        self.page.wait_for_selector("#tipqa-question textarea")

    def ask(self, question: str, unfold: bool = True) -> str:
        """Type QUESTION, press Enter, unfold the reply's passages (unless told not to) and return its text."""
        replies = self.page.locator("#tipqa-chat .tipqa-answer")
        before = replies.count()
        self.page.fill("#tipqa-question textarea", question)
        self.page.press("#tipqa-question textarea", "Enter")
        self.page.wait_for_function(
            f"document.querySelectorAll('#tipqa-chat .tipqa-answer').length > {before}", timeout=TIMEOUT_MS)
        reply = replies.nth(before)
        for summary in reply.locator("summary").all() if unfold else []:
            summary.click()  # unfolded, so any live markup in a passage would render (and fire) too
        return reply.inner_text()

    def last_mark(self) -> str:
        return self.page.locator("#tipqa-chat .tipqa-answer").last.locator("mark").first.inner_text()

    def upload(self, path: Path) -> str:
        self.page.get_by_role("tab", name="Reports").click()
        self.page.set_input_files("#tipqa-upload input[type=file]", str(path))
        self.page.click("#tipqa-add")
        self.page.wait_for_selector("#tipqa-outcome li", timeout=TIMEOUT_MS)
        outcome = self.page.inner_text("#tipqa-outcome")
        self.page.get_by_role("tab", name="Ask").click()
        return outcome

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / name
        self.page.screenshot(path=str(target), full_page=True)
        return target

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser, server):
    page = Page(browser, server.url)
    yield page
    page.close()


def test_canonical_question_shows_brazil_highlighted(tab):
    reply = tab.ask(CANONICAL, unfold=False)
    assert "Brazil" in tab.last_mark()
    assert "joint judicial investigation teams" in tab.last_mark()
    assert "Technical Working Group 1" in reply  # the citation: report › section
    assert "Other passages" in reply and "score 0.0" not in reply  # folded away until clicked
    shot = tab.screenshot("ask-canonical.png")
    readme_shot = ROOT / "docs" / "screenshot.png"
    if os.environ.get("TIPQA_UPDATE_SCREENSHOT") or not readme_shot.exists():  # keep the tree clean otherwise
        readme_shot.parent.mkdir(exist_ok=True)
        shutil.copy(shot, readme_shot)
    assert not tab.dialogs


@pytest.mark.parametrize("example, expected", [
    ("Which country proposed joint investigation teams?", "Brazil"),
    ("Who chaired the meeting?", "Raúl Ricardes"),  # the meeting's elected President, not a working group's chair
    ("What did Mexico say about victims?", "Mexico recognized"),
    ("¿Qué país propuso equipos conjuntos de investigación?", "Brazil"),
])
def test_every_example_button_gives_a_right_answer(tab, example, expected):
    from tipqa.web.app import EXAMPLES
    assert example in EXAMPLES  # each button the page offers is checked here
    replies = tab.page.locator("#tipqa-chat .tipqa-answer")
    before = replies.count()
    tab.page.get_by_role("button", name=example, exact=True).click()
    tab.page.wait_for_function(
        f"document.querySelectorAll('#tipqa-chat .tipqa-answer').length > {before}", timeout=TIMEOUT_MS)
    answer = replies.nth(before).locator("strong").first.inner_text()  # the short answer, in bold
    assert expected in answer, replies.nth(before).inner_text()


def test_the_examples_are_the_ones_checked():
    from tipqa.web.app import EXAMPLES
    assert len(EXAMPLES) == 4  # a new example button needs its expected answer in the test above


def test_follow_ups_are_understood_in_context(tab):
    tab.ask(CANONICAL)
    chile = tab.ask("And what did Chile say?")
    assert "Understood as: What did Chile say about joint investigation teams?" in chile
    # The Working Group 1 passage, found through the earlier question (alone, "Chile" matches other passages too).
    assert "Chile acknowledged that one of the commitments" in chile
    mexico = tab.ask("what about Mexico?")
    assert "Understood as: What did Mexico say about joint investigation teams?" in mexico
    assert "Mexico encouraged all the member states" in mexico
    tab.screenshot("follow-ups.png")


def test_uploaded_report_is_answerable(tab):
    outcome = tab.upload(DATA / "rtp-iii-2012-guatemala-rapporteur.txt")
    assert "added as 'rtp-iii-2012-guatemala-rapporteur'" in outcome or "unchanged" in outcome, outcome
    reply = tab.ask("Which delegation nominated Zulma Subillaga Dubón to chair the meeting?")
    assert "The delegation of Nicaragua nominated Zulma Subillaga Dubón" in reply
    assert "RTP III 2012 Guatemala rapporteur › ELECTION OF OFFICERS OF THE MEETING" in reply  # its citation
    tab.screenshot("uploaded-report.png")


def test_hostile_report_renders_inert(tab):
    outcome = tab.upload(DATA / "xss-payload-report.txt")
    assert "xss-payload-report" in outcome, outcome
    reply = tab.ask("Which delegation proposed a regional observatory on lighthouse keeping?")
    assert "<script>alert(\"xss-script\")</script>" in reply  # shown as text, not run
    assert "onerror=\"alert('xss-onerror')\"" in reply
    tab.page.get_by_role("tab", name="Reports").click()
    tab.page.wait_for_selector("#tipqa-reports")
    tab.page.wait_for_timeout(1000)  # give any injected handler time to fire
    assert tab.page.locator("#tipqa-chat img[src='x'], #tipqa-chat script, #tipqa-chat iframe").count() == 0
    assert tab.page.locator("#tipqa-reports img[src='x'], #tipqa-reports script").count() == 0
    assert tab.dialogs == []
    assert not [e for e in tab.console_errors if re.search(r"xss|heading|title|frame|link", e)], tab.console_errors
    tab.screenshot("hostile-report.png")


def test_phone_width_layout(browser, server):
    phone = Page(browser, server.url, width=390, height=844)
    try:
        phone.ask(CANONICAL)
        assert "Brazil" in phone.last_mark()
        overflow = phone.page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"page scrolls sideways by {overflow}px at phone width"
        phone.screenshot("phone.png")
    finally:
        phone.close()


def _choose(page, dropdown: str, text: str) -> None:
    page.click(f"{dropdown} input")
    page.get_by_role("option", name=re.compile(re.escape(text))).first.click()


def test_remove_asks_first_and_a_removed_report_can_be_restored(browser, tmp_path, real_embedder):
    """Nothing is pre-selected; Remove asks (naming the report) before anything is deleted; Cancel keeps it;
    confirmed, the report moves to the trash and Restore brings it back into the corpus and the index."""
    from .conftest import SEED, SEED_ID
    running = start_server(tmp_path, real_embedder)
    page = Page(browser, running.url)
    try:
        seed = running.settings.corpus_dir / SEED.name
        page.page.get_by_role("tab", name="Reports").click()
        assert page.page.input_value("#tipqa-remove-choice input") == ""  # nothing pre-selected
        page.page.click("#tipqa-remove")
        page.page.wait_for_function("document.querySelector('#tipqa-removed').innerText.includes('Choose')")
        assert seed.exists() and not page.page.locator("#tipqa-confirm-yes").is_visible()

        _choose(page.page, "#tipqa-remove-choice", SEED_ID)
        page.page.click("#tipqa-remove")
        page.page.wait_for_selector("#tipqa-confirm-yes", state="visible")
        assert "Remove" in page.page.inner_text("#tipqa-confirm-text") and SEED_ID in page.page.inner_text(
            "#tipqa-confirm-text")
        assert seed.exists()  # asking deleted nothing
        page.page.click("#tipqa-confirm-no")
        page.page.wait_for_selector("#tipqa-confirm-yes", state="hidden")
        assert seed.exists() and SEED_ID in [r["report_id"] for r in running.app.assistant.reports()]

        page.page.click("#tipqa-remove")
        page.page.click("#tipqa-confirm-yes")
        page.page.wait_for_function("document.querySelector('#tipqa-removed').innerText.includes('Removed')",
                                    timeout=TIMEOUT_MS)
        assert not seed.exists() and running.app.assistant.reports() == []
        page.screenshot("removed-report.png")

        _choose(page.page, "#tipqa-restore-choice", SEED.name)
        page.page.click("#tipqa-restore")
        page.page.wait_for_function("document.querySelector('#tipqa-removed').innerText.includes('Restored')",
                                    timeout=TIMEOUT_MS)
        assert seed.exists() and [r["report_id"] for r in running.app.assistant.reports()] == [SEED_ID]
        assert SEED_ID in page.page.inner_text("#tipqa-reports")
        page.page.get_by_role("tab", name="Ask").click()
        assert "Brazil" in page.ask(CANONICAL, unfold=False)
    finally:
        page.close()
        running.close()
