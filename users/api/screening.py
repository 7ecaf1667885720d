"""`POST /api/screening/search` (issue 6 point 9): ad-hoc screening of one name against the watchlists.

Thin: the body is validated here, the search (and its audit row) is `users.screening.adhoc`.
Anyone who may read watchlist entries may search them (`users.view_watchlistentry`: analysts,
approvers, compliance admins and integrators through `users.view_*`, see users/apps.py).
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.api.serializers import StrictFieldsMixin
from compliance.audit import Actor
from users.api.user_serializers.fields import CountryCodeField, JsonNumberField, TextField
from users.models.screening import EntrySchema, SourceKind
from users.screening import adhoc
from users.screening.search import Candidate

SEARCH = ["users.view_watchlistentry"]
TAGS = ["screening"]
BIRTH_DATE = RegexValidator(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$", "Expected YYYY, YYYY-MM or YYYY-MM-DD.")
MAX_COUNTRIES = 50


class JsonIntegerField(serializers.IntegerField):
    """A JSON integer only (DRF's IntegerField also takes "10", 10.0 and true)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class ScreeningSearchRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    name = TextField(max_length=adhoc.MAX_NAME_LENGTH, help_text="The name to screen.")
    birthDate = TextField(
        required=False,
        validators=[BIRTH_DATE],
        help_text="Date of birth (or of registration): YYYY, YYYY-MM or YYYY-MM-DD.",
    )
    country = CountryCodeField(required=False, help_text="An ISO 3166-1 alpha-2 country code.")
    countries = serializers.ListField(
        child=CountryCodeField(),
        required=False,
        max_length=MAX_COUNTRIES,
        help_text="ISO 3166-1 alpha-2 codes (nationalities, residence...); joined with `country`.",
    )
    entityType = serializers.ChoiceField(
        choices=list(adhoc.ENTITY_TYPES),
        required=False,
        help_text="Only entries of this type (and entries of unknown type); any type when absent.",
    )
    sourceKinds = serializers.ListField(
        child=serializers.ChoiceField(choices=SourceKind.choices),
        required=False,
        min_length=1,
        max_length=len(SourceKind.values),
        help_text="Only lists of these kinds; every active list when absent.",
    )
    minScore = JsonNumberField(
        required=False,
        min_value=0,
        max_value=100,
        help_text="Answer every candidate scoring at least this (0: the whole ranking). When absent: "
        "hits only, each against the threshold of its list's kind.",
    )
    limit = JsonIntegerField(required=False, min_value=1, max_value=adhoc.MAX_LIMIT, default=10)


class SourceSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    # A plain string in the schema: the request's `sourceKinds` already documents the enum.
    kind = serializers.CharField(help_text="SANCTIONS, PEP, WATCHLIST, ADVERSE_MEDIA or INTERNAL.")


class MatchedTokenSerializer(serializers.Serializer):
    query = serializers.CharField(help_text="A word of the searched name (normalised).")
    entry = serializers.CharField(help_text="The word of the entry's name it matched.")
    similarity = serializers.FloatField(help_text="0-1.")


class AdjustmentSerializer(serializers.Serializer):
    reason = serializers.CharField()
    delta = serializers.FloatField(help_text="Points added to (or taken from) the name's score.")


class CandidateSerializer(serializers.Serializer):
    entryId = serializers.IntegerField()
    externalId = serializers.CharField(help_text="The entry's id in its list.")
    source = SourceSerializer()
    entityType = serializers.ChoiceField(choices=EntrySchema.choices)
    name = serializers.CharField(help_text="The entry's primary name.")
    matchedName = serializers.CharField(help_text="The name or alias that matched best.")
    matchedNameKind = serializers.ChoiceField(choices=["primary", "alias", "weak_alias"])
    score = serializers.FloatField(help_text="0-100.")
    threshold = serializers.FloatField(help_text="The hit threshold of the list's kind.")
    isHit = serializers.BooleanField()
    explanation = serializers.CharField()
    matchedTokens = MatchedTokenSerializer(many=True)
    adjustments = AdjustmentSerializer(many=True)
    birthDates = serializers.ListField(child=serializers.CharField())
    nationalities = serializers.ListField(child=serializers.CharField())
    countries = serializers.ListField(child=serializers.CharField())
    programmes = serializers.ListField(child=serializers.CharField())


class ScreeningSearchResponseSerializer(serializers.Serializer):
    searchId = serializers.IntegerField(help_text="The search's audit trail id.")
    name = serializers.CharField(help_text="The name searched.")
    candidates = CandidateSerializer(many=True, help_text="Best first.")


def candidate_document(candidate: Candidate) -> dict:
    entry, result = candidate.entry, candidate.result
    return {
        "entryId": entry.pk,
        "externalId": entry.external_id,
        "source": {"code": entry.source.code, "name": entry.source.name, "kind": entry.source.kind},
        "entityType": entry.schema,
        "name": entry.name,
        "matchedName": result.matched_name,
        "matchedNameKind": result.kind,
        "score": result.score,
        "threshold": candidate.threshold,
        "isHit": candidate.is_hit,
        "explanation": result.explanation,
        "matchedTokens": [
            {"query": query, "entry": matched, "similarity": similarity}
            for query, matched, similarity in result.matched_tokens
        ],
        "adjustments": [{"reason": reason, "delta": delta} for reason, delta in result.adjustments],
        "birthDates": [str(value) for value in entry.birth_dates],
        "nationalities": list(entry.nationalities),
        "countries": list(entry.countries),
        "programmes": [str(value) for value in entry.programmes],
    }


class ScreeningSearchView(APIView):
    """`POST /api/screening/search`: ranked watchlist candidates for a name, each scored and explained."""

    required_permissions = {"POST": SEARCH}

    @extend_schema(
        operation_id="screening_search",
        tags=TAGS,
        summary="Screen a name against the watchlists",
        description=(
            "Ranked candidates (best first) from every active watchlist, each with its 0-100 score, "
            "the hit threshold of its list's kind and an explanation (which name or alias, which "
            "words matched, how date of birth and country moved the score). Without `minScore` "
            "only hits are answered. Every search is recorded in the audit trail."
        ),
        request=ScreeningSearchRequestSerializer,
        responses={200: ScreeningSearchResponseSerializer},
        examples=[
            OpenApiExample(
                "A person",
                request_only=True,
                value={
                    "name": "Vladimir Petrov",
                    "birthDate": "1961-08",
                    "country": "RU",
                    "entityType": "PERSON",
                },
            )
        ],
    )
    def post(self, request):
        serializer = ScreeningSearchRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        countries = [country.alpha2 for country in data.get("countries", [])]
        if data.get("country") is not None:
            countries.append(data["country"].alpha2)
        outcome = adhoc.screening_search(
            actor=Actor.from_request(request),
            name=data["name"],
            entity_type=data.get("entityType"),
            birth_date=data.get("birthDate"),
            countries=countries,
            source_kinds=data.get("sourceKinds"),
            min_score=data.get("minScore"),
            limit=data["limit"],
        )
        return Response(
            {
                "searchId": outcome.search_id,
                "name": outcome.name,
                "candidates": [candidate_document(candidate) for candidate in outcome.candidates],
            }
        )
