"""Mails to requesters, from subject / text / html template triplets under templates/optout/mail/."""

from django.conf import settings
from django.template.loader import render_to_string

from governance.mail import UnwrappedMail


def mail_send(*, template: str, to: str, context: dict) -> None:
    """Render `optout/mail/<template>_{subject,body}.txt` (+ `_body.html`) and send it to one address."""
    context = {"base_url": settings.PUBLIC_BASE_URL, **context}
    # One line, whatever a template or a value holds: no header can be injected through the subject.
    subject = " ".join(render_to_string(f"optout/mail/{template}_subject.txt", context).split())
    text = render_to_string(f"optout/mail/{template}_body.txt", context)
    html = render_to_string(f"optout/mail/{template}_body.html", context)
    message = UnwrappedMail(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()
