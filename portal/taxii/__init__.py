"""TAXII 2.1 server (read side) over the STIX exports of threat notices and denials."""
