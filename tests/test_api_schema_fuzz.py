"""Schemathesis against the project's own OpenAPI schema, every check on (`--checks all`): no input may cause a
5xx, break the schema, be refused though valid (ST202) or be accepted though invalid (ST201)."""

import os
import time

import pytest
import schemathesis
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation

from governance.services import dataset_get_or_create
from governance.tokens import pipeline_token_issue
from releases.publication import release_publish

# Per operation: positive and negative data, three seeds, 34 examples each: 204 (about 35 s on 2 cores).
# API_FUZZ_EXAMPLES_PER_RUN=200 gives 1,200 per operation (about 130 s; no finding either).
EXAMPLES_PER_RUN = int(os.environ.get("API_FUZZ_EXAMPLES_PER_RUN", "34"))
SEEDS = (1, 2, 3)


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

    failures, started = [], time.monotonic()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for run_seed in SEEDS:

                @seed(run_seed)
                @given(case=operation.as_strategy(generation_mode=mode))
                @hypothesis_settings(
                    max_examples=EXAMPLES_PER_RUN,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
                def call(case):
                    # The token goes with every call, except when the case itself is about headers (a missing or
                    # malformed Authorization, say): then it is sent as generated, and must be refused.
                    about_headers = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
                    case.call_and_validate(headers=None if about_headers else {"Authorization": f"Bearer {token}"})

                try:
                    call()
                except Unsatisfiable:
                    # An operation without parameters or body has no invalid input to generate.
                    assert mode == GenerationMode.NEGATIVE, operation.label
                except Exception as failure:  # noqa: BLE001 - schemathesis raises a FailureGroup
                    failures.append(f"{operation.label} {mode.value} seed {run_seed}:\n{failure}")
    with capsys.disabled():
        print(f"\nschemathesis: {len(operations)} operations, {time.monotonic() - started:.0f} s")
    assert not failures, "\n\n".join(failures)
