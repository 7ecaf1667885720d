import logging

from compliance import context

REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Gives every request an id (the client's X-Request-ID if well-formed) and echoes it.

    The id goes into log records, audit rows, outbox rows and error bodies, so one id ties
    together everything a request caused.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = context.clean_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = context.set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            context.reset_request_id(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record):
        record.request_id = context.get_request_id() or "-"
        return True
