"""The texts of notification emails, in the reader's language.

Every sentence is a msgid of the library's "gincore_chats" catalog. Customers read theirs in the
conversation's language (what the widget chose from the browser); employees in the managers'
language, ``CHATS_CONSOLE_LOCALE``, else the app's default locale (``BABEL_DEFAULT_LOCALE``): the
email is sent by the worker, with no request whose browser or locale selector could tell. The
HTML and text bodies are templates a host may override
(``gincore_chats/email_employee_unread.html`` and ``.txt``, ``email_customer_unread.*``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from babel import Locale, UnknownLocaleError
from flask import current_app, render_template
from flask_babel import force_locale

from ...babel import _, domain
from ...models import Contact, Conversation, Message


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    return str(domain.ngettext(singular, plural, num, **variables))


def _locale_name(tag: str | None) -> str:
    """A Babel locale for a BCP 47 tag as stored ("pt-br"), English when Babel has none."""
    try:
        return str(Locale.parse((tag or "en").replace("-", "_")))
    except (ValueError, UnknownLocaleError):
        return "en"


@contextmanager
def language(tag: str | None) -> Iterator[None]:
    """Texts made inside are in ``tag``; forced, so no host locale selector (which may need a
    request) is asked in a worker."""
    with force_locale(_locale_name(tag)):
        yield


def staff_language() -> str:
    pinned = current_app.config.get("CHATS_CONSOLE_LOCALE")
    if pinned:
        return str(pinned)
    return str(current_app.config.get("BABEL_DEFAULT_LOCALE") or "en")


def template_translations() -> dict[str, Any]:
    """Our domain's gettext for an email template a host overrides with ``{{ _("...") }}``.

    The staff pages' context processor runs only in staff requests; emails are rendered in the
    worker, so they get the same names passed in (call inside ``language(...)``).
    """
    return {
        "_": domain.gettext,
        "gettext": domain.gettext,
        "ngettext": domain.ngettext,
        "pgettext": domain.pgettext,
    }


def contact_label(contact: Contact) -> str:
    if contact.name:
        return contact.name
    if contact.email:
        return contact.email
    # TRANSLATORS: a customer who gave no name or email; %(number)s is their number.
    return _("Visitor %(number)s", number=contact.id)


def _lines(messages: list[Message]) -> list[dict[str, str]]:
    return [{"author": m.author_name or "", "body": m.body} for m in messages]


def employee_unread(conv: Conversation, messages: list[Message], link: str) -> Email:
    """ "A customer's messages stay unread": to the employees, in the managers' language."""
    name = contact_label(conv.contact)
    with language(staff_language()):
        texts = {
            # TRANSLATORS: to staff; %(source)s is the inquiry source (e.g. the shop's widget).
            "intro": ngettext(
                "%(num)d unread message from %(name)s in %(source)s:",
                "%(num)d unread messages from %(name)s in %(source)s:",
                len(messages),
                name=name,
                source=conv.source.name,
            ),
            "open": _("Open the conversation"),
            "footer": _(
                "You get this email because you answer the chats of %(source)s. You can turn "
                "these emails off in the chat console.",
                source=conv.source.name,
            ),
        }
        subject = _("Unread chat from %(name)s", name=name)
        context = {
            **template_translations(),
            "texts": texts,
            "messages": _lines(messages),
            "link": link,
            "subject": subject,
            "lang": _locale_name(staff_language()).replace("_", "-"),
        }
        return Email(
            subject=subject,
            text=render_template("gincore_chats/email_employee_unread.txt", **context),
            html=render_template("gincore_chats/email_employee_unread.html", **context),
        )


def customer_unread(
    conv: Conversation, messages: list[Message], company: str, page_url: str | None
) -> Email:
    """ "Replies the customer has not seen": to the customer, in the conversation's language."""
    with language(conv.language):
        greeting = (
            _("Hello %(name)s,", name=conv.contact.name) if conv.contact.name else _("Hello,")
        )
        texts = {
            "greeting": greeting,
            # TRANSLATORS: to a customer; %(company)s is the sender name (the company).
            "intro": ngettext(
                "You have %(num)d unread message in your chat with %(company)s:",
                "You have %(num)d unread messages in your chat with %(company)s:",
                len(messages),
                company=company,
            ),
            "continue": _("Continue the conversation"),
            "footer": _("You get this email because you left your email address in our chat."),
        }
        subject = _("New reply from %(company)s", company=company)
        context = {
            "texts": texts,
            "messages": _lines(messages),
            "link": page_url,
            "subject": subject,
            "lang": (conv.language or "en"),
        }
        return Email(
            subject=subject,
            text=render_template("gincore_chats/email_customer_unread.txt", **context),
            html=render_template("gincore_chats/email_customer_unread.html", **context),
        )
