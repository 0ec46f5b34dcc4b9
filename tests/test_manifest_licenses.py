"""Real package manifests (tests/data/manifests, origins in SOURCES.md) read as the SPDX expression they declare."""

from pathlib import Path

from audits.scanning.manifests import ManifestLicense, manifest_license

MANIFESTS = Path(__file__).parent / "data" / "manifests"


def read(relative: str) -> ManifestLicense | None:
    path = MANIFESTS / relative
    return manifest_license(f"some/folder/{path.name}", path.read_bytes())


def test_ripgrep_cargo_toml_is_unlicense_or_mit():
    found = read("cargo/ripgrep-13.0.0/Cargo.toml")

    assert found == ManifestLicense(expression="Unlicense OR MIT", field="Cargo.toml: package.license")


def test_cargo_slash_form_of_old_crates_is_a_choice():
    assert read("cargo/bitflags-1.3.2/Cargo.toml").expression == "MIT OR Apache-2.0"
    assert read("cargo/fnv-1.0.7/Cargo.toml").expression == "Apache-2.0 OR MIT"


def test_cargo_license_file_is_a_pointer_without_expression():
    found = read("cargo/webpki-0.22.0/Cargo.toml")

    assert found.expression == ""
    assert found.field == "Cargo.toml: package.license-file"
    assert found.pointers == ("LICENSE",)


def test_cargo_compound_expression_keeps_its_parentheses():
    assert read("cargo/encoding_rs-0.8.31/Cargo.toml").expression == "(Apache-2.0 OR MIT) AND BSD-3-Clause"


def test_requests_pyproject_reads_the_text_table_and_setuptools_license_files():
    found = read("pypi/requests-2.34.2/pyproject.toml")

    assert found.expression == "Apache-2.0"
    assert found.field == "pyproject.toml: project.license.text"
    assert found.pointers == ("LICENSE", "NOTICE")
    assert found.unknown == ()


def test_pep_639_license_string_is_read_as_spdx():
    found = read("pypi/packaging-26.4/pyproject.toml")

    assert found.expression == "Apache-2.0 OR BSD-2-Clause"
    assert found.field == "pyproject.toml: project.license"


def test_pyproject_license_file_table_points_at_the_file():
    found = read("pypi/jinja2-3.1.4/pyproject.toml")

    assert found.expression == ""
    assert found.field == "pyproject.toml: project.license.file"
    assert found.pointers == ("LICENSE.txt",)


def test_poetry_license_is_read_when_the_project_table_has_none():
    found = read("pypi/poetry-core-1.9.1/pyproject.toml")

    assert (found.expression, found.field) == ("MIT", "pyproject.toml: tool.poetry.license")


def test_setup_cfg_dual_license_goes_to_a_person_with_its_file():
    found = read("pypi/python-dateutil-2.9.0.post0/setup.cfg")

    assert found.expression == "LicenseRef-Dual-License"
    assert found.unknown == ("Dual License",)
    assert found.pointers == ("LICENSE",)


def test_setup_cfg_with_only_license_files_is_a_pointer():
    found = read("pypi/six-1.17.0/setup.cfg")

    assert found == ManifestLicense(expression="", field="setup.cfg: metadata.license_files", pointers=("LICENSE",))


def test_setup_cfg_license_and_license_files_are_both_kept():
    found = read("pypi/MarkupSafe-2.1.5/setup.cfg")

    assert (found.expression, found.pointers) == ("BSD-3-Clause", ("LICENSE.rst",))


def test_package_json_with_a_plain_spdx_id():
    assert read("npm/jquery-3.7.1/package.json") == ManifestLicense("MIT", "package.json: license")


def test_package_json_deprecated_id_is_normalised():
    assert read("npm/node-forge-1.3.1/package.json").expression == "BSD-3-Clause OR GPL-2.0-only"


def test_package_json_see_license_in_points_at_the_file():
    found = read("npm/ckeditor4-4.25.2/package.json")

    assert found == ManifestLicense(expression="", field="package.json: license", pointers=("LICENSE.md",))


def test_legacy_licenses_array_is_a_choice_and_bare_bsd_stays_unknown():
    found = read("npm/json-schema-0.2.3/package.json")

    assert found.expression == "AFL-2.1 OR LicenseRef-BSD"
    assert found.field == "package.json: licenses"
    assert found.unknown == ("BSD",)


def test_legacy_license_object_reads_its_type():
    assert read("npm/rimraf-2.0.3/package.json").expression == "MIT"


def test_license_given_as_a_list_of_names_is_a_choice():
    assert read("npm/pause-stream-0.0.11/package.json").expression == "MIT OR Apache-2.0"


def test_bare_bsd_with_an_exact_license_url_is_that_license():
    found = read("npm/source-map-0.1.31/package.json")

    assert (found.expression, found.unknown) == ("BSD-3-Clause", ())


def test_public_domain_keeps_scancodes_public_domain_id():
    assert read("npm/tv4-1.3.0/package.json").expression == "LicenseRef-scancode-public-domain OR MIT"


def test_mit_x11_is_mit():
    assert read("npm/optimist-0.3.7/package.json").expression == "MIT"


def test_bower_json_license_is_read():
    assert read("bower/jquery-3.7.1/bower.json") == ManifestLicense("MIT", "bower.json: license")


def test_a_sentence_in_the_license_field_goes_to_a_person():
    found = read("bower/ckeditor4-4.25.2/bower.json")

    assert found.expression.startswith("LicenseRef-For-licensing-see-LICENSE.md")
    assert found.unknown[0].startswith("For licensing, see LICENSE.md")


def test_composer_array_is_a_choice():
    found = read("composer/ckeditor4-4.25.2/composer.json")

    assert found.expression.startswith("GPL-2.0-or-later OR LGPL-2.1-or-later OR ")
    assert found.field == "composer.json: license"


def test_composer_single_entry_array_and_string():
    assert read("composer/tinymce-5.10.9/composer.json").expression == "LGPL-2.1-only"
    assert read("composer/psr-log-1.1.4/composer.json").expression == "MIT"


def test_hand_written_gemspec_license():
    found = read("rubygems/jekyll-theme-chirpy-5.3.21/jekyll-theme-chirpy.gemspec")

    assert found == ManifestLicense("MIT", "jekyll-theme-chirpy.gemspec: license")


def test_generated_gemspec_licenses_list_is_a_choice():
    found = read("rubygems/power_assert-2.0.3/power_assert-2.0.3.gemspec")

    assert (found.expression, found.field) == ("BSD-2-Clause OR Ruby", "power_assert-2.0.3.gemspec: licenses")


def test_gemspec_names_off_the_spdx_list_are_kept_and_reported():
    found = read("rubygems/test-unit-3.5.3/test-unit-3.5.3.gemspec")

    assert found.expression == "Ruby OR LicenseRef-BSDL OR PSF-2.0"
    assert found.unknown == ("BSDL",)


def test_pom_apache_name_text_is_apache_2():
    found = read("maven/guava-31.1/pom.xml")

    assert found == ManifestLicense("Apache-2.0", "pom.xml: licenses/license")


def test_pom_mit_and_eclipse_names():
    assert read("maven/jsoup-1.15.3/pom.xml").expression == "MIT"
    assert read("maven/junit-4.13.2/pom.xml").expression == "EPL-1.0"


def test_nuspec_with_only_a_license_url_states_no_license():
    assert read("nuget/toastr-2.1.4/toastr.2.0.3.nuspec") is None


def test_r_description_gpl_at_least_2():
    assert read("cran/Rcpp-1.0.10/DESCRIPTION") == ManifestLicense("GPL-2.0-or-later", "DESCRIPTION: License")


def test_r_mit_template_file_adds_no_pointer():
    found = read("cran/jsonlite-1.8.4/DESCRIPTION")

    assert (found.expression, found.pointers) == ("MIT", ())


def test_cpan_perl_5_is_perls_dual_license():
    assert read("cpan/JSON-4.10/META.json").expression == "Artistic-1.0-Perl OR GPL-1.0-or-later"
    assert read("cpan/Module-Runtime-0.016/META.yml").expression == "Artistic-1.0-Perl OR GPL-1.0-or-later"


def test_cabal_old_name_and_license_file():
    found = read("hackage/aeson-2.0.3.0/aeson.cabal")

    assert found == ManifestLicense("BSD-3-Clause", "aeson.cabal: license", pointers=("LICENSE",))
