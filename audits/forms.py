from django import forms

from audits.models import Review
from governance.models import Dataset


class LicenseQueueFilterForm(forms.Form):
    dataset = forms.ChoiceField(required=False, label="Dataset")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].choices = [("", "All datasets")] + [
            (slug, slug) for slug in Dataset.objects.order_by("slug").values_list("slug", flat=True)
        ]


class LicenseReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision for this dataset",
        choices=[
            ("include", "Include: the license allows this dataset"),
            ("exclude", "Exclude: leave this repository out"),
        ],
        widget=forms.RadioSelect,
    )
    reason_code = forms.ChoiceField(label="Reason", choices=[("", "Choose a reason")] + Review.ReasonCode.choices)
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you read and why it settles the question. Required when the reason is “Other”.",
    )
    # The evidence the maintainer read: a review is refused when a new verdict arrived meanwhile.
    evidence_digest = forms.CharField(widget=forms.HiddenInput, max_length=64)


class DirectoryReviewForm(forms.Form):
    directory = forms.CharField(required=False, max_length=4000)
    license = forms.CharField(max_length=1000)
    reason_code = forms.ChoiceField(label="Reason", choices=Review.ReasonCode.choices)
    comment = forms.CharField(label="Why they may stay", max_length=2000)
