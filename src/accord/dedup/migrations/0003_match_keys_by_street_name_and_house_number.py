"""Recompute the stored match keys: the postcode key now pairs the postcode with the house
number (it paired it with a name initial), the street key uses the street's name (it used
its last word, usually "street" or "road"), and long parts are cut before joining. Capture
looks keys up in this index, so keys stored the old way would never meet new ones."""

from django.db import migrations

BATCH = 5000


def rebuild(apps, schema_editor):
    from accord.dedup.keys import Person, blocking_keys

    Contact = apps.get_model("crm", "Contact")
    MatchKey = apps.get_model("dedup", "MatchKey")
    if not MatchKey.objects.exists():
        return  # nothing was indexed yet: the next index build computes the new keys
    MatchKey.objects.all().delete()
    fields = ("id", "first_name", "last_name", "email", "phone", "external_id", "street", "city", "postcode", "state", "birth_date", "account__name", "account__domain")
    last = 0
    while True:
        rows = list(Contact.objects.filter(pk__gt=last).order_by("pk").values_list(*fields)[:BATCH])
        if not rows:
            return
        keys = []
        for (pk, first, last_name, email, phone, external_id, street, city, postcode, state, birth, company, domain) in rows:
            person = Person.build(
                first_name=first, last_name=last_name, email=email, phone=phone, external_id=external_id, street=street,
                city=city, postcode=postcode, state=state, birth_date=birth, company=company or "", domain=domain or "",
            )
            keys.extend(MatchKey(contact_id=pk, key=key) for key in blocking_keys(person))
        MatchKey.objects.bulk_create(keys, batch_size=2000)
        last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("dedup", "0002_suggestion_left_index_is_the_pair_index"),
    ]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
