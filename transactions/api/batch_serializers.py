"""Seed 002 batch envelopes, for the schema: the request (`batchId`, `data`: items in the
single-item endpoint's shape), the 202 answer and the batch read back by id.

The envelope itself is validated by the view (`batch_views.envelope`): the items are validated
one by one by the workers, each with its single-item serializer, so a bad item never refuses
the batch.
"""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from transactions.models import Batch


class BatchAcceptedSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='"OK": the batch is stored and queued (or was already).')
    batchId = serializers.CharField()
    batchStatus = serializers.ChoiceField(choices=Batch.Status.choices)
    totalCount = serializers.IntegerField(help_text="Items in the batch.")
    statusUrl = serializers.URLField(help_text="Where the batch is read back (GET).")


class BatchErrorSerializer(serializers.Serializer):
    property = serializers.CharField(help_text="The invalid property's path in the item (empty: the item).")
    issue = serializers.CharField()


class BatchItemErrorsSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="The item's index in the posted `data`, from 0.")
    errors = BatchErrorSerializer(many=True)


def _items_field(item_serializer):
    """`data`: a list of items, each documented in the single-item endpoint's shape but any JSON
    value to the envelope — a bad item is refused on its own by the workers (`errors`), never
    the batch, so the schema must not promise a 400 for it."""
    component = item_serializer.__name__.removesuffix("Serializer") + "Request"
    schema = {
        "type": "array",
        "minItems": 1,
        "maxItems": settings.BATCH_MAX_ITEMS,
        "items": {
            "anyOf": [{"$ref": f"#/components/schemas/{component}"}, {}],
            "description": f"An item in the shape of `{component}` (the single-item endpoint's body). "
            "Each item is validated when it is applied: a bad item is listed in the batch's `errors`.",
        },
        "description": "The items, at most the configured maximum (10,000 by default).",
    }
    return extend_schema_field(schema)(type(f"{component}BatchItems", (serializers.ListField,), {}))(
        child=serializers.JSONField()
    )


def request_serializer(name: str, item_serializer):
    return type(
        f"{name}Batch",
        (serializers.Serializer,),
        {
            "__doc__": "A batch: its id (generated when absent) and its items.",
            "batchId": serializers.RegexField(
                r"^[A-Za-z0-9._:~-]{1,200}$",
                required=False,
                help_text="The batch's id (letters, digits, `._:~-`, at most 200); generated when absent. "
                "Posting it again with the same items answers the existing batch; with others, 409.",
            ),
            "data": _items_field(item_serializer),
        },
    )


def batch_answer_serializer(name: str, results_key: str, document_serializer):
    return type(
        f"{name}BatchAnswer",
        (serializers.Serializer,),
        {
            "__doc__": "A page of the batch's items, with the batch's status and counts.",
            results_key: document_serializer(
                many=True, help_text="The page's applied items, as the single GET answers them."
            ),
            "totalCount": serializers.IntegerField(help_text="Items in the batch."),
            "batchId": serializers.CharField(),
            "status": serializers.ChoiceField(choices=Batch.Status.choices),
            "succeeded": serializers.IntegerField(help_text="Items applied so far."),
            "failed": serializers.IntegerField(help_text="Items refused so far."),
            "errors": BatchItemErrorsSerializer(many=True, help_text="The page's refused items."),
            "pendingPositions": serializers.ListField(
                child=serializers.IntegerField(), help_text="The page's items not applied yet."
            ),
        },
    )
