"""A read-only FHIR R4 view of the catalogue, the stored routines and the red-flag screening.

Every function here maps our own records to FHIR resources as plain dicts (or ready JSON bytes);
none of them knows about HTTP. `app/api/fhir.py` is the thin router in front of them.
"""
