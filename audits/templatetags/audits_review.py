"""The license queue's summary on other maintainers' pages (the opt-out review queue)."""

from django import template

from audits import selectors

register = template.Library()


@register.inclusion_tag("audits/_queue_summary.html", takes_context=True)
def license_review_summary(context):
    user = context["request"].user
    if not user.has_perm("audits.review_license"):
        return {"allowed": False}
    return {"allowed": True, "counts": selectors.license_review_counts()}
