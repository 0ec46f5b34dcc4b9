from django import forms

from governance.models import Dataset
from optout.models import OptOutRequest

MAX_LIST_CHARACTERS = 200_000


class OptOutForm(forms.Form):
    email = forms.EmailField(
        label="Your e-mail address",
        max_length=254,
        help_text="We send the confirmation link here. It is never published or shown to anyone else.",
    )
    scope = forms.ChoiceField(
        label="What to opt out",
        choices=OptOutRequest.Scope.choices,
        initial=OptOutRequest.Scope.REPOSITORIES,
        widget=forms.RadioSelect,
    )
    repositories = forms.CharField(
        label="Repositories, one per line",
        required=False,
        max_length=MAX_LIST_CHARACTERS,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "autocomplete": "off"}),
        help_text="Any form you would paste: https://github.com/owner/name, git@github.com:owner/name.git, "
        "owner/name … Up to 1,000.",
    )
    namespace = forms.CharField(
        label="Owner or group",
        required=False,
        max_length=1000,
        help_text="For example github.com/your-org: every repository under it, including ones created later.",
    )
    proof_repository = forms.CharField(
        label="Repository under it that will hold the proof",
        required=False,
        max_length=1000,
        help_text="Any repository inside that owner or group, for example github.com/your-org/.github.",
    )
    datasets = forms.MultipleChoiceField(
        label="Datasets",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to opt out of every dataset, including ones added later.",
    )
    reason = forms.CharField(
        label="Reason (optional, private)",
        required=False,
        max_length=OptOutRequest.MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only maintainers read it. It is never published.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["datasets"].choices = [(dataset.slug, dataset.name) for dataset in Dataset.objects.order_by("name")]

    def clean(self):
        cleaned = super().clean()
        scope = cleaned.get("scope")
        if scope == OptOutRequest.Scope.REPOSITORIES and not cleaned.get("repositories", "").strip():
            self.add_error("repositories", "List at least one repository, one per line.")
        if scope == OptOutRequest.Scope.NAMESPACE:
            if not cleaned.get("namespace", "").strip():
                self.add_error("namespace", "Name the owner or group to opt out, for example github.com/your-org.")
            if not cleaned.get("proof_repository", "").strip():
                self.add_error("proof_repository", "Name a repository under it where you will commit the proof.")
        return cleaned


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason (mailed to the requester)", max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReviewFilterForm(forms.Form):
    state = forms.ChoiceField(
        required=False, choices=[("", "In review")] + [c for c in OptOutRequest.State.choices if c[0] != "in_review"]
    )
    older_than_days = forms.IntegerField(required=False, min_value=0, max_value=3650, label="Older than (days)")
