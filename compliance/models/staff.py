from django.contrib.auth.models import AbstractUser


class StaffUser(AbstractUser):
    """A person (or an integrator's service account) who works in the back office.

    Not to be confused with `users.Customer`, the monitored customers that the
    transaction-monitoring API calls "users". Roles are Django groups (see
    `compliance.roles`); an API key acts with the permissions of the account it belongs to.
    """

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = "staff user"
        verbose_name_plural = "staff users"

    def __str__(self):
        return self.username
