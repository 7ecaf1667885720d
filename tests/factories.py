import factory
from django.contrib.auth.models import Group

from compliance.models import StaffUser

PASSWORD = "correct horse battery staple"


class StaffUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffUser
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in extracted))
        if create:
            self.save()
