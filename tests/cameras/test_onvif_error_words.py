"""A non-SOAP reply that zeep's parser chokes on is "not an ONVIF device", never a raw Python error."""

from __future__ import annotations

from watchwall.cameras.errors import NotOnvif, OnvifError, translate


def test_zeeps_missing_document_is_not_onvif():
    try:
        None.getroottree()  # what zeep does with a reply that held no XML document
    except AttributeError as exc:
        error = translate(exc, "127.0.0.1:8080", 3.0)
    assert isinstance(error, NotOnvif)
    assert "AttributeError" not in str(error) and "getroottree" not in str(error)


def test_an_unknown_failure_keeps_its_type_for_the_log():
    error = translate(KeyError("x"), "127.0.0.1:8080", 3.0)
    assert type(error) is OnvifError and "KeyError" in str(error)
