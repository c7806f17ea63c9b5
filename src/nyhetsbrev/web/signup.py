"""Sign-up with double opt-in: the form, the pending contact, the confirmation email and link."""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass, field

import sqlalchemy as sa
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from nyhetsbrev.contacts.addresses import InvalidEmail, normalise_email, sendable_form
from nyhetsbrev.contacts.fields import FIELD_LIMITS, UNPRINTABLE
from nyhetsbrev.contacts.model import Contact
from nyhetsbrev.web.mail import Mail
from nyhetsbrev.web.pages import LANGUAGE_NAMES, LANGUAGES
from nyhetsbrev.web.security import address_key, client_key
from nyhetsbrev.web.site import Site, text_field

log = logging.getLogger("nyhetsbrev.web")

#: The fields of the form that are checked like every other way onto the list (contacts.fields).
FORM_FIELDS = ("email", "name", "organisation")


@dataclass
class SignUp:
    """What a visitor typed into the form, and what is wrong with it."""

    email: str = ""
    name: str = ""
    organisation: str = ""
    topics: list[str] = field(default_factory=list)
    language: str = "nb"
    consent: bool = False
    ascii_email: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def read_signup(form: FormData, site: Site, language: str) -> SignUp:
    """Check every field of a sign-up; `errors` maps field → message in the page's language."""
    labels = site.pages.labels(language)
    signup = SignUp(
        email=text_field(form, "email").strip(),
        name=" ".join(text_field(form, "name").split()),
        organisation=" ".join(text_field(form, "organisation").split()),
        topics=[t for t in form.getlist("topics") if isinstance(t, str)],
        language=text_field(form, "language") or language,
        consent=text_field(form, "consent") == "yes",
    )
    errors = signup.errors
    for name in FORM_FIELDS:
        limit = FIELD_LIMITS[name]
        value: str = getattr(signup, name)
        if len(value) > limit:
            errors[name] = labels["error_too_long"].format(max=limit, length=len(value))
            setattr(signup, name, value[:limit])  # shown back shortened, never stored
        elif UNPRINTABLE.search(value):
            errors[name] = labels["error_control"]
    if "email" not in errors:
        if not signup.email:
            errors["email"] = labels["error_email_required"]
        else:
            try:
                signup.ascii_email = sendable_form(signup.email)
            except InvalidEmail:
                errors["email"] = labels["error_email_invalid"]
    known = site.publication.topics
    chosen = [t for t in known if t in signup.topics]
    if not chosen or len(chosen) != len(set(signup.topics)):
        errors["topics"] = labels["error_topics"]
    signup.topics = chosen
    if signup.language not in LANGUAGES:
        errors["language"] = labels["error_language"]
        signup.language = language
    if not signup.consent:
        errors["consent"] = labels["error_consent"]
    return signup


def form_page(
    request: Request, site: Site, language: str, signup: SignUp | None = None, status: int = 200
) -> Response:
    pages = site.pages
    if signup is None:
        default = "nyhetsbrev" if "nyhetsbrev" in site.publication.topics else None
        first = default or site.publication.topics[0]
        signup = SignUp(topics=[first], language=language)
    return pages.render(
        request,
        "web-subscribe.html.j2",
        status=status,
        language=language,
        form=True,
        values=signup,
        errors=signup.errors,
        limits=FIELD_LIMITS,
        topics=pages.topic_choices(pages.labels(language)),
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
    )


async def subscribe_form(request: Request) -> Response:
    site = Site.of(request)
    return form_page(request, site, site.pages.language(request))


async def subscribe(request: Request) -> Response:
    """POST /subscribe: the same answer whether or not the address is known (or suppressed)."""
    site = Site.of(request)
    pages = site.pages
    language = pages.language(request)
    wait = site.subscribe_limiter.hit(client_key(request))
    if wait:
        minutes = max(1, math.ceil(wait / 60))
        return pages.message(
            request,
            "rate_limited_title",
            "rate_limited_body",
            status=429,
            values={"minutes": minutes},
            headers={"Retry-After": str(math.ceil(wait))},
        )
    form = await site.form(request)
    if not site.csrf_ok(request, form):
        return pages.message(request, "csrf_title", "csrf_body", status=403, links=("subscribe",))
    if text_field(form, "website"):  # the honeypot: a bot; it gets the usual answer, nothing else
        log.info("sign-up with the honeypot filled in, ignored (client %s)", client_key(request))
        return check_inbox(request, site, language, text_field(form, "email").strip()[:254])
    signup = read_signup(form, site, language)
    if signup.errors:
        return form_page(request, site, language, signup, status=400)
    # Answer at once and do the work after the answer has gone out: every state of the address
    # (new, pending, subscribed, unsubscribed, erased) then gets the same answer after the same
    # work, so neither the page nor its timing tells them apart.
    task = BackgroundTask(register, site, signup, client_key(request))
    return check_inbox(request, site, language, signup.email, task)


async def register(site: Site, signup: SignUp, client: str) -> None:
    """Record the sign-up and send its email; runs after the answer (a failure is logged: the
    visitor has their answer already, and tries again if no email comes)."""
    try:
        mail = await run_in_threadpool(record_signup, site, signup, client)
        if mail is not None:
            await run_in_threadpool(site.mailer.send, mail)
    except Exception:
        log.exception("sign-up not recorded (client %s)", client)


def record_signup(site: Site, signup: SignUp, client: str) -> Mail | None:
    """Record the sign-up; the email to send, or None when none may go out."""
    if site.store.suppression(signup.email) is not None:
        return None  # erased: never written to again, and never told so
    existing = site.store.get(signup.email)
    if existing is not None and existing.status == "subscribed":
        contact = existing
        kind = "known"
    else:
        pending = functools.partial(
            site.store.subscribe_pending,
            signup.email,
            name=signup.name or None,
            organisation=signup.organisation or None,
            language=signup.language,
            topics=signup.topics,
            evidence=f"web form {site.public_url}/subscribe (client {client})",
            privacy_notice_version=site.publication.privacy_notice_version,
        )
        try:
            contact = pending()
        except sa.exc.IntegrityError:  # the same new address, signed up twice at once
            contact = pending()
        kind = "confirm"
    if site.mail_limiter.hit(address_key(normalise_email(signup.email))):
        log.info("sign-up email to contact #%s held back: too many for one address", contact.id)
        return None
    return signup_mail(site, contact, signup, kind)


def signup_mail(site: Site, contact: Contact, signup: SignUp, kind: str) -> Mail:
    labels = site.pages.labels(signup.language)
    values = {
        **site.pages.standard_values(signup.language),
        "email": signup.ascii_email,
        "days": site.limits.confirm_lifetime.days,
    }
    if kind == "confirm":
        values["url"] = site.link("confirm", contact.id)
    else:
        values["url"] = site.link("preferences", contact.id)
    return Mail(
        to=signup.ascii_email,
        subject=labels[f"mail_{kind}_subject"].format(**values),
        body=labels[f"mail_{kind}_body"].format(**values),
        language=signup.language,
    )


def check_inbox(
    request: Request, site: Site, language: str, email: str, task: BackgroundTask | None = None
) -> Response:
    response = site.pages.message(
        request,
        "check_inbox_title",
        "check_inbox_body+check_inbox_hint",
        language=language,
        values={"email": email, "days": site.limits.confirm_lifetime.days},
        links=("archive",),
    )
    response.background = task
    return response


async def confirm_page(request: Request) -> Response:
    """GET /confirm/TOKEN: a button; following the link changes nothing (scanners follow it)."""
    site = Site.of(request)
    contact_id = site.contact_id(request.path_params["token"], "confirm")
    contact = await run_in_threadpool(site.store.get_by_id, contact_id)
    if contact is None:
        return not_on_list(request, site, status=404)
    if contact.status != "pending":
        return confirmed(request, site, contact, already=True)
    language = site.pages.language(request)
    labels = site.pages.labels(language)
    values = {**site.pages.standard_values(language), "email": contact.email}
    return site.pages.render(
        request,
        "web-action.html.j2",
        form=True,
        title=labels["confirm_title"],
        paragraphs=[labels["confirm_body"].format(**values)],
        action=request.url.path + f"?lang={site.pages.language(request)}",
        hidden=[],
        button=labels["confirm_button"],
    )


async def confirm(request: Request) -> Response:
    """POST /confirm/TOKEN (with the form's CSRF token): pending → subscribed."""
    site = Site.of(request)
    contact_id = site.contact_id(request.path_params["token"], "confirm")
    form = await site.form(request)
    if not site.csrf_ok(request, form):
        return site.pages.message(request, "csrf_title", "csrf_body", status=403)
    contact = await run_in_threadpool(site.store.get_by_id, contact_id)
    if contact is None:
        return not_on_list(request, site, status=404)
    changed = await run_in_threadpool(
        site.store.confirm, contact_id, evidence="confirmed with the emailed link"
    )
    return confirmed(request, site, contact, already=not changed)


def confirmed(request: Request, site: Site, contact: Contact, *, already: bool) -> Response:
    pages = site.pages
    values = {"email": contact.email}
    if already and contact.status != "subscribed":
        return pages.message(
            request, "not_pending_title", "not_pending_body", values=values, links=("subscribe",)
        )
    language = pages.language(request)
    labels = pages.labels(language)
    title = labels["already_confirmed_title" if already else "confirmed_title"]
    body = labels["confirmed_body"].format(**pages.standard_values(language), **values)
    return pages.render(
        request,
        "web-message.html.j2",
        private=True,
        title=title,
        paragraphs=[body],
        links=("archive",),
        preferences_url=site.link("preferences", contact.id),
    )


def not_on_list(request: Request, site: Site, *, status: int = 200) -> Response:
    return site.pages.message(
        request, "not_on_list_title", "not_on_list_body", status=status, links=("subscribe",)
    )
