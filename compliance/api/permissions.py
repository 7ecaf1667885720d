from rest_framework.permissions import BasePermission


class RolePermissions(BasePermission):
    """Authenticated, and holding the Django permissions the view needs for the method.

    A view names its permissions in `required_permissions = {"GET": ["app.view_x"], ...}`
    or computes them in `get_required_permissions(request)`; otherwise the model
    permissions of its queryset apply, with reads needing `view_*` (DRF's own
    DjangoModelPermissions lets any authenticated user read). Roles are groups holding
    these permissions (compliance.roles). Failing here is 401 without credentials, 403 with.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        return user.has_perms(self.required_permissions(request, view))

    def required_permissions(self, request, view) -> list[str]:
        if hasattr(view, "get_required_permissions"):
            return list(view.get_required_permissions(request))
        declared = getattr(view, "required_permissions", None)
        if declared is not None:
            if request.method in ("HEAD", "OPTIONS") and request.method not in declared:
                return list(declared.get("GET", []))
            if request.method not in declared:
                # A method the view does not declare is never allowed by accident.
                return ["compliance.no_such_permission"]
            return list(declared[request.method])
        queryset = getattr(view, "queryset", None)
        if queryset is None and hasattr(view, "get_queryset"):
            queryset = view.get_queryset()
        if queryset is None:
            return ["compliance.no_such_permission"]
        model = queryset.model
        kwargs = {"app_label": model._meta.app_label, "model_name": model._meta.model_name}
        return [
            perm % kwargs for perm in self.perms_map.get(request.method, ["compliance.no_such_permission"])
        ]
