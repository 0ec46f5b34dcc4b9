"""Manifest licenses at the edges: broken files, npm's UNLICENSED, old and inherited forms, names off the SPDX list."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.scanning.manifests import ManifestLicense, is_manifest, manifest_license


def read(name: str, text: str) -> ManifestLicense | None:
    return manifest_license(name, text.encode())


def test_bad_toml_is_an_error_not_a_license():
    found = read("Cargo.toml", '[package]\nname = "x"\nlicense = MIT\n')

    assert found.expression == ""
    assert found.field == "Cargo.toml"
    assert found.error.startswith("not valid TOML")


def test_bad_json_and_a_json_list_are_errors():
    assert read("package.json", '{"license": "MIT",}').error.startswith("not valid JSON")
    assert read("composer.json", '["MIT"]').error == "not a JSON object"


def test_xml_with_a_doctype_is_refused_before_parsing():
    bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><project><licenses><license>'
    bomb += "<name>&lol;</name></license></licenses></project>"

    found = read("pom.xml", bomb)

    assert found.error == "XML with a DOCTYPE or ENTITY declaration is refused"


def test_unlicensed_is_proprietary_and_never_the_unlicense():
    found = read("package.json", '{"license": "UNLICENSED"}')

    assert found.expression == "LicenseRef-UNLICENSED"
    assert found.unknown == ("UNLICENSED",)
    assert read("package.json", '{"license": "Unlicense"}').expression == "Unlicense"


def test_cargo_old_slash_form_means_or():
    found = read("Cargo.toml", '[package]\nname = "x"\nlicense = "MIT/Apache-2.0"\n')

    assert found == ManifestLicense("MIT OR Apache-2.0", "Cargo.toml: package.license")


def test_cargo_license_inherited_from_the_workspace_in_the_same_file():
    text = '[package]\nname = "x"\nlicense.workspace = true\n\n[workspace.package]\nlicense = "Apache-2.0"\n'

    found = read("Cargo.toml", text)

    assert found == ManifestLicense("Apache-2.0", "Cargo.toml: workspace.package.license")


def test_cargo_member_that_inherits_from_elsewhere_states_nothing_here():
    assert read("Cargo.toml", '[package]\nname = "x"\nlicense = { workspace = true }\n') is None
    assert read("Cargo.toml", '[package]\nname = "x"\n') is None


def test_cargo_license_that_is_not_a_string_is_an_error():
    assert read("Cargo.toml", '[package]\nlicense = ["MIT"]\n').error == "package.license is not a string"


def test_package_json_without_license_states_nothing():
    assert read("package.json", '{"name": "x", "private": true}') is None


def test_an_empty_license_falls_back_to_the_legacy_licenses_list():
    found = read("package.json", '{"license": "", "licenses": [{"type": "MIT"}]}')

    assert (found.expression, found.field) == ("MIT", "package.json: licenses")


def test_see_license_in_a_url_is_not_a_file():
    found = read("package.json", '{"license": "SEE LICENSE IN https://example.com/terms"}')

    assert found.pointers == ()
    assert found.expression.startswith("LicenseRef-SEE-LICENSE-IN")
    assert found.unknown == ("SEE LICENSE IN https://example.com/terms",)


def test_a_json_license_of_another_type_is_an_error():
    assert read("package.json", '{"license": 3}').error == "license is a JSON int, not a string, object or list"


def test_deno_vcpkg_and_elm_json_read_their_license():
    assert read("deno.json", '{"license": "MIT"}').field == "deno.json: license"
    assert read("vcpkg.json", '{"name": "x", "license": "BSL-1.0"}').expression == "BSL-1.0"
    assert read("vcpkg.json", '{"name": "x", "license": null}') is None
    assert read("elm.json", '{"license": "BSD-3-Clause"}').expression == "BSD-3-Clause"


def test_a_utf8_byte_order_mark_is_allowed():
    assert manifest_license("package.json", b'\xef\xbb\xbf{"license": "ISC"}').expression == "ISC"


# No real nuspec with a license expression could be fetched (NuGet is not reachable): minimal hand-written ones.
NUSPEC = '<?xml version="1.0"?><package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd"><metadata>'


def test_nuspec_license_expression():
    license = '<license type="expression">MIT OR Apache-2.0</license>'

    found = read("Some.Lib.nuspec", NUSPEC + license + "</metadata></package>")

    assert found == ManifestLicense("MIT OR Apache-2.0", "Some.Lib.nuspec: license[@type=expression]")


def test_nuspec_license_file_is_a_pointer():
    found = read("Some.Lib.nuspec", NUSPEC + '<license type="file">docs\\LICENSE.txt</license></metadata></package>')

    assert (found.expression, found.pointers) == ("", ("docs/LICENSE.txt",))


def test_csproj_package_license_expression_and_file():
    expression = "<Project><PropertyGroup><PackageLicenseExpression>Apache-2.0</PackageLicenseExpression>"
    assert read("Lib.csproj", expression + "</PropertyGroup></Project>").expression == "Apache-2.0"
    file = "<Project><PropertyGroup><PackageLicenseFile>LICENSE.md</PackageLicenseFile></PropertyGroup></Project>"
    assert read("Lib.csproj", file).pointers == ("LICENSE.md",)


POM = '<project xmlns="http://maven.apache.org/POM/4.0.0"><licenses>{}</licenses></project>'


def test_pom_with_several_licenses_means_a_choice():
    licenses = "<license><name>GNU Lesser General Public License v3</name></license>"
    licenses += "<license><name>Apache License, Version 2.0</name></license>"

    assert read("pom.xml", POM.format(licenses)).expression == "LGPL-3.0-only OR Apache-2.0"


def test_pom_unknown_name_with_an_exact_url_reads_the_url():
    licenses = (
        "<license><name>Apache License</name><url>https://www.apache.org/licenses/LICENSE-2.0.txt</url></license>"
    )

    assert read("pom.xml", POM.format(licenses)).expression == "Apache-2.0"


def test_pom_free_text_name_off_every_table_goes_to_a_person():
    found = read("pom.xml", POM.format("<license><name>Acme Corp Internal License</name></license>"))

    assert found.expression == "LicenseRef-Acme-Corp-Internal-License"
    assert found.unknown == ("Acme Corp Internal License",)


def test_pom_without_licenses_inherits_and_states_nothing():
    assert read("pom.xml", "<project><parent><artifactId>p</artifactId></parent></project>") is None


@pytest.mark.parametrize(
    ("written", "expression"),
    [
        ("MIT License", "MIT"),
        ("Apache 2.0", "Apache-2.0"),
        ("Apache License, Version 2.0", "Apache-2.0"),
        ("The Apache Software License, Version 2.0", "Apache-2.0"),
        ("Eclipse Public License - v 2.0", "EPL-2.0"),
        ("GPLv3", "GPL-3.0-only"),
        ("GPL-3", "GPL-3.0-only"),
        ("LGPLv2.1+", "LGPL-2.1-or-later"),
        ("ISC License", "ISC"),
        ("Public Domain", "LicenseRef-scancode-public-domain"),
        ("mit or apache-2.0", "MIT OR Apache-2.0"),
    ],
)
def test_common_names_in_free_text_fields_map_to_spdx(written, expression):
    found = read("setup.cfg", f"[metadata]\nname = x\nlicense = {written}\n")

    assert (found.expression, found.unknown) == (expression, ())


def test_bsd_alone_is_unclear_and_stays_unknown():
    found = read("setup.cfg", "[metadata]\nlicense = BSD\n")

    assert (found.expression, found.unknown) == ("LicenseRef-BSD", ("BSD",))


def test_setup_cfg_file_directive_is_a_pointer():
    found = read("setup.cfg", "[metadata]\nlicense = file: LICENSE.txt\n")

    assert found == ManifestLicense("", "setup.cfg: metadata.license", pointers=("LICENSE.txt",))


def test_setup_cfg_without_metadata_and_a_broken_one():
    assert read("setup.cfg", "[flake8]\nmax-line-length = 99\n") is None
    assert read("setup.cfg", "license = MIT\n").error.startswith("not a valid setup.cfg")


def test_pyproject_license_files_globs_are_kept_as_written():
    text = '[project]\nname = "x"\nlicense = "MIT"\nlicense-files = ["LICEN[CS]E*", "./vendor/LICENSE"]\n'

    assert read("pyproject.toml", text).pointers == ("LICEN[CS]E*", "vendor/LICENSE")


def test_pyproject_old_license_files_table_form():
    text = '[project]\nname = "x"\nlicense-files = { paths = ["COPYING"] }\n'

    assert read("pyproject.toml", text) == ManifestLicense("", "pyproject.toml: project.license-files", ("COPYING",))


def test_pyproject_pasted_license_text_is_read_by_its_title_line():
    text = '[project]\nname = "x"\nlicense = { text = """MIT License\n\nCopyright (c) 2020 Someone\n""" }\n'

    assert read("pyproject.toml", text).expression == "MIT"


def test_pyproject_with_a_dynamic_license_states_nothing():
    assert read("pyproject.toml", '[project]\nname = "x"\ndynamic = ["license"]\n') is None


def test_gemspec_word_array_and_single_quotes():
    text = "Gem::Specification.new do |s|\n  s.licenses = %w[MIT Apache-2.0]\nend\n"
    assert read("x.gemspec", text).expression == "MIT OR Apache-2.0"
    assert read("x.gemspec", "Gem::Specification.new do |s|\n  s.license = 'BSD-2-Clause'\nend\n").expression == (
        "BSD-2-Clause"
    )


def test_gemspec_license_from_ruby_code_is_an_error_and_none_is_none():
    found = read("x.gemspec", "Gem::Specification.new do |spec|\n  spec.license = Acme::LICENSE\nend\n")

    assert found.error == "the license is set by Ruby code, not a string literal"
    assert read("x.gemspec", "Gem::Specification.new do |s|\n  # s.license = 'MIT'\nend\n") is None


def test_r_alternatives_files_and_added_terms():
    assert read("DESCRIPTION", "Package: x\nLicense: GPL-2 | GPL-3\n").expression == "GPL-2.0-only OR GPL-3.0-only"
    assert read("DESCRIPTION", "Package: x\nLicense: file LICENSE\n").pointers == ("LICENSE",)
    found = read("DESCRIPTION", "Package: x\nLicense: GPL-3 + file LICENSE\n")
    assert (found.expression, found.pointers) == ("GPL-3.0-only", ("LICENSE",))


def test_a_description_that_is_no_r_package_states_nothing():
    assert read("DESCRIPTION", "This project converts images.\n") is None


def test_r_description_in_latin_1_is_read():
    found = manifest_license("DESCRIPTION", "Package: x\nAuthor: Jérôme\nLicense: MIT\n".encode("latin-1"))

    assert found.expression == "MIT"


def test_cpan_licenses_of_parts_all_apply_and_unknown_is_no_statement():
    assert read("META.json", '{"license": ["mit", "artistic_2"]}').expression == "MIT AND Artistic-2.0"
    assert read("META.json", '{"license": ["unknown"]}') is None
    assert read("META.yml", "---\nlicense:\n  - open_source\n").unknown == ("open_source",)


def test_cabal_spdx_expression_and_other_license():
    assert read("x.cabal", "cabal-version: 2.2\nlicense: GPL-2.0-or-later\n").expression == "GPL-2.0-or-later"
    found = read("x.cabal", "name: x\nlicense: OtherLicense\nlicense-file: COPYING\n")
    assert found == ManifestLicense("", "x.cabal: license-file", pointers=("COPYING",))


def test_is_manifest_names_only_the_formats_read():
    assert all(is_manifest(path) for path in ("Cargo.toml", "web/package.json", "a.gemspec", "X.NUSPEC", "pom.xml"))
    assert not any(is_manifest(path) for path in ("pubspec.yaml", "setup.py", "README.md", "Cargo.lock"))
    assert manifest_license("pubspec.yaml", b"name: x\n") is None


MANIFEST_NAMES = ["Cargo.toml", "package.json", "pyproject.toml", "setup.cfg", "x.gemspec", "x.nuspec", "pom.xml"]
MANIFEST_NAMES += ["DESCRIPTION", "META.json", "META.yml", "x.cabal", "Lib.csproj"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MANIFEST_NAMES), st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_content_gives_a_license_an_error_or_none_never_an_exception(name, content):
    found = manifest_license(name, content)

    assert found is None or found.error or found.expression or found.pointers
