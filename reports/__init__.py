"""Signed supervision reports (PDF, Chinese or English, with plots) of a county or the city.

``period`` says what a report covers and refuses what cannot be, ``gather`` reads every figure
(the case figures through ``watchwall.metrics``' own queries), ``plots`` draws them, ``layout``
sets the PDF, ``signing`` signs and verifies it, ``generate`` does all of it for one report,
``store`` keeps them for the /reports page, ``due`` and ``schedule`` make them on time, and
``cli`` is ``watchwall report``.
"""
