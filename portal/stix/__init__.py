"""Threat notices and denials as STIX 2.1 (the `stix2` library builds and checks every object).

Each item is a `report`: both kinds are finished, dated intelligence that a state publishes
(STIX's `report` is exactly "a collection of threat intelligence … published" with a
`published` date, a source and markings), and the tools national systems run (MISP, OpenCTI)
import reports as their top-level containers. No other SDO fits better: `note` and `opinion`
comment on other objects, `grouping` is for unfinished analysis, and a new SDO of our own would
be understood by no consumer. The fields STIX has no property for (national reference, parties,
control entries, severity, categories …) travel in the property extension defined by
`EXTENSION_ID`, whose JSON schema is served from our static files.

Identities: one per originating state (and one for the Initiative, which defines the
extension). Markings: the FIRST TLP 2.0 marking-definitions by their standard ids.
"""
