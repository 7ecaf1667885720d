"""`POST /api/bench/ping`: the benchmark's yardstick, routed only when settings.BENCH_ENDPOINTS is on.

`make bench-transactions` compares the transaction endpoint's throughput with this one's: the
same request path (middleware, API-key authentication, role permission check, throttle, JSON
answer) and one row inserted, without the rules. It is not part of the API (left out of the
schema) and never routed in production.
"""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.audit import Actor, audit_log
from compliance.models import AuditTrail


class BenchPingView(APIView):
    # The permission of POST /api/transactions, so the check costs the same.
    required_permissions = {"POST": ["transactions.add_transaction"]}

    @extend_schema(exclude=True)
    def post(self, request):
        row = audit_log(
            actor=Actor.from_request(request),
            action=AuditTrail.Action.OTHER,
            object_type="bench.ping",
            object_repr="benchmark ping",
        )
        return Response({"ok": True, "id": row.pk})
