"""What differs between CloudEvents spec versions, in one table: a new version changes this module alone.

The record keeps one set of fields for every version (``dataschema`` included); each version names its
attributes and types them in its own way, and spec 0.3 marks Base64 data with an attribute of its own.
Codecs ask this table instead of testing version strings.

>>> SPECS["0.3"].wire_name("dataschema"), SPECS["1.0"].wire_name("dataschema")
('schemaurl', 'dataschema')
>>> SPECS["0.3"].types["schemaurl"], SPECS["1.0"].types["dataschema"]
('URI-reference', 'URI')
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = ["SPECS", "SPEC_VERSIONS", "SpecVersion"]


@attrs.frozen
class SpecVersion:
    """One spec version: its attribute names, their types, and how it marks Base64 data.

    ``renamed`` maps a record field to this version's name for it where the two differ.
    ``types`` gives every context attribute (by this version's name) its CloudEvents type.
    ``data_encoding`` is the attribute that says data is Base64 (``datacontentencoding`` in 0.3), and
    ``base64_member`` the JSON member that holds Base64 data (``data_base64`` in 1.0); a version has
    one or the other.
    """

    version: str
    required: tuple[str, ...]
    types: Mapping[str, str]
    renamed: Mapping[str, str] = attrs.field(factory=dict)
    data_encoding: str | None = None
    base64_member: str | None = None

    def wire_name(self, field: str) -> str:
        """This version's name for a record field (``dataschema`` is ``schemaurl`` in 0.3)."""
        return self.renamed.get(field, field)

    def field_name(self, name: str) -> str:
        """The record field for this version's attribute name (the inverse of :meth:`wire_name`)."""
        for field, wire in self.renamed.items():
            if wire == name:
                return field
        return name


# CloudEvents 1.0, section "Context Attributes": REQUIRED id, source, specversion, type; OPTIONAL
# datacontenttype, dataschema, subject, time. Types from each attribute's "Constraints".
_V1 = SpecVersion(
    version="1.0",
    required=("id", "source", "specversion", "type"),
    types={
        "id": "String",
        "source": "URI-reference",
        "specversion": "String",
        "type": "String",
        "datacontenttype": "String",
        "dataschema": "URI",
        "subject": "String",
        "time": "Timestamp",
    },
    base64_member="data_base64",
)

# CloudEvents 0.3: the schema is "schemaurl" (a URI-reference), and "datacontentencoding" says how data
# is encoded ("base64" is the value the JSON format and the bindings define).
_V03 = SpecVersion(
    version="0.3",
    required=("id", "source", "specversion", "type"),
    types={
        "id": "String",
        "source": "URI-reference",
        "specversion": "String",
        "type": "String",
        "datacontenttype": "String",
        "datacontentencoding": "String",
        "schemaurl": "URI-reference",
        "subject": "String",
        "time": "Timestamp",
    },
    renamed={"dataschema": "schemaurl"},
    data_encoding="datacontentencoding",
)

#: Every spec version cefmt implements, by its ``specversion`` value.
SPECS: Mapping[str, SpecVersion] = {"1.0": _V1, "0.3": _V03}

#: The spec versions cefmt implements, newest first.
SPEC_VERSIONS = tuple(SPECS)
