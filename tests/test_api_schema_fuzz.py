"""Schemathesis against the project's own OpenAPI schema: no input may cause a 5xx or break the schema."""

import pytest
import schemathesis
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from governance.publication import release_publish
from governance.services import dataset_get_or_create
from governance.tokens import pipeline_token_issue

EXAMPLES_PER_OPERATION = 20


@pytest.mark.django_db(transaction=True)
def test_no_input_causes_a_server_error_or_breaks_the_schema(settings, capsys):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    dataset_get_or_create(slug="the-stack")
    call_command("exclude", "the-stack", "github.com/a/one", "--reason", "legal")
    release_publish(dataset_slug="the-stack")
    token = pipeline_token_issue(name="fuzz", dataset_slugs=["the-stack"])[1]
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis_settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def call(case):
                # Every text is a valid body of the compatibility endpoint (unknown lines answer optOut: false),
                # so "invalid data was accepted" is not a failure here; 5xx and schema violations are.
                case.call_and_validate(
                    headers={"Authorization": f"Bearer {token}"},
                    excluded_checks=[schemathesis.checks.negative_data_rejection],
                )

            try:
                call()
            except Unsatisfiable:
                # An operation without parameters or body has no invalid input to generate.
                assert mode == GenerationMode.NEGATIVE, operation.label
