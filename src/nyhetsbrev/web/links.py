"""The personal links in every email: unsubscribe (RFC 8058 one-click) and preferences."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from nyhetsbrev.contacts.model import Contact
from nyhetsbrev.contacts.store import ContactStore
from nyhetsbrev.errors import ContactsError
from nyhetsbrev.web.pages import LANGUAGE_NAMES, LANGUAGES
from nyhetsbrev.web.signup import not_on_list
from nyhetsbrev.web.site import Site, text_field

log = logging.getLogger("nyhetsbrev.web")
ONE_CLICK = "One-Click"  # RFC 8058: the body is List-Unsubscribe=One-Click


async def unsubscribe_page(request: Request) -> Response:
    """GET (and HEAD) /unsubscribe/TOKEN: a button. Reading the link never changes anything."""
    site = Site.of(request)
    contact_id = site.contact_id(request.path_params["token"], "unsubscribe")
    contact = await run_in_threadpool(site.store.get_by_id, contact_id)
    if contact is None:
        return not_on_list(request, site, status=404)
    if contact.status == "unsubscribed":
        return unsubscribed(request, site, contact.email)
    pages = site.pages
    language = pages.language(request)
    labels = pages.labels(language)
    values = {**pages.standard_values(language), "email": contact.email}
    return pages.render(
        request,
        "web-action.html.j2",
        private=True,
        form=True,
        language=language,
        title=labels["unsubscribe_title"],
        paragraphs=[labels["unsubscribe_body"].format(**values)],
        action=f"{request.url.path}?lang={language}",
        hidden=[("via", "button")],
        button=labels["unsubscribe_button"],
    )


async def unsubscribe(request: Request) -> Response:
    """POST /unsubscribe/TOKEN: the one-click POST of a mail client (exactly the body
    `List-Unsubscribe=One-Click`, no cookie, no CSRF token) or the page's button (with its CSRF
    token). Anything else is a 400 that changes nothing. 200 with a page, never a redirect;
    applying it again changes nothing more."""
    site = Site.of(request)
    contact_id = site.contact_id(request.path_params["token"], "unsubscribe")
    form = await site.form(request)
    one_click = form.multi_items() == [("List-Unsubscribe", ONE_CLICK)]
    button = text_field(form, "via") == "button" and site.csrf_ok(request, form)
    if not (one_click or button):
        return site.pages.message(
            request, "bad_request_title", "bad_request_body", status=400, links=("archive",)
        )
    source, reason = ("link", "one-click (RFC 8058)") if one_click else ("web-form", "button")
    contact = await run_in_threadpool(_unsubscribe, site.store, contact_id, source, reason)
    if contact is None:  # erased: they get no mail either way
        return not_on_list(request, site)
    return unsubscribed(request, site, contact.email)


def _unsubscribe(store: ContactStore, contact_id: int, source: str, reason: str) -> Contact | None:
    """Unsubscribe (idempotent) in one worker-thread hop; None if the contact is not there."""
    contact = store.get_by_id(contact_id)
    if contact is None:
        return None
    try:
        store.unsubscribe(contact_id, actor="web", source=source, reason=reason)
    except ContactsError:  # erased meanwhile
        return None
    return contact


def unsubscribed(request: Request, site: Site, email: str) -> Response:
    return site.pages.message(
        request,
        "unsubscribed_title",
        "unsubscribed_body+resubscribe_hint",
        values={"email": email},
        links=("subscribe", "archive"),
    )


async def preferences_page(request: Request) -> Response:
    """GET /preferences/TOKEN: the contact's topics and language, to change."""
    site = Site.of(request)
    contact_id = site.contact_id(request.path_params["token"], "preferences")
    contact = await run_in_threadpool(site.store.get_by_id, contact_id)
    if contact is None:
        return not_on_list(request, site, status=404)
    return preferences_form(request, site, contact, list(contact.topics), contact.language)


async def preferences(request: Request) -> Response:
    """POST /preferences/TOKEN (with the form's CSRF token): save topics and language."""
    site = Site.of(request)
    pages = site.pages
    contact_id = site.contact_id(request.path_params["token"], "preferences")
    form = await site.form(request)
    if not site.csrf_ok(request, form):
        return pages.message(request, "csrf_title", "csrf_body", status=403)
    contact = await run_in_threadpool(site.store.get_by_id, contact_id)
    if contact is None:
        return not_on_list(request, site, status=404)
    language = pages.language(request)
    labels = pages.labels(language)
    asked = [t for t in form.getlist("topics") if isinstance(t, str)]
    topics = [t for t in site.publication.topics if t in asked]
    chosen_language = text_field(form, "language")
    errors: dict[str, str] = {}
    if not topics or len(topics) != len(set(asked)):
        errors["topics"] = labels["error_topics"]
    if chosen_language not in (*LANGUAGES, contact.language):
        errors["language"] = labels["error_language"]
    if errors:
        return preferences_form(
            request, site, contact, topics, contact.language, errors=errors, status=400
        )
    updated = await run_in_threadpool(
        site.store.update_preferences, contact_id, topics, chosen_language
    )
    shown = chosen_language if chosen_language in LANGUAGES else language
    return preferences_form(
        request, site, updated, list(updated.topics), updated.language, saved=True, language=shown
    )


def preferences_form(
    request: Request,
    site: Site,
    contact: Contact,
    topics: list[str],
    chosen_language: str,
    *,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status: int = 200,
    language: str | None = None,
) -> Response:
    pages = site.pages
    language = language or pages.language(request)
    languages = [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]
    if (
        contact.language not in LANGUAGES
    ):  # a code an editor set outside the page languages: keep it choosable
        languages.append((contact.language, contact.language))
    return pages.render(
        request,
        "web-preferences.html.j2",
        status=status,
        language=language,
        form=True,
        email=contact.email,
        contact_status=contact.status,
        values={"topics": topics, "language": chosen_language},
        errors=errors or {},
        saved=saved,
        topics=pages.topic_choices(pages.labels(language)),
        languages=languages,
        action=f"{request.url.path}?lang={language}",
        unsubscribe_url=(
            site.link("unsubscribe", contact.id) if contact.status != "unsubscribed" else None
        ),
    )
