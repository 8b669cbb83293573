"""Authenticators whose TOTP secret is sealed with the field keys (accounts.Authenticator), in
place of django-otp's TOTPDevice, which keeps it in hex: every existing device is moved, its
secret sealed under the suite in force, its state kept (last code's step, drift, throttling,
dates), and django-otp's row deleted. A session verified by a device moved asks for a code again
(it named the old row)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TOTP_KEY_CONTEXT = "accounts.totp_key"  # xueji.accounts.second_factor.models
KEPT = (
    "name", "confirmed", "step", "t0", "digits", "tolerance", "drift", "last_t",
    "throttling_failure_timestamp", "throttling_failure_count", "last_used_at",
)  # fmt: skip


def seal_devices(apps, schema_editor):
    from xueji.core.crypto import encrypt

    plain = apps.get_model("otp_totp", "TOTPDevice")
    sealed = apps.get_model("accounts", "Authenticator")
    for device in plain.objects.order_by("pk").iterator():
        moved = sealed.objects.create(
            user_id=device.user_id,
            key_sealed=encrypt(device.key.lower(), context=TOTP_KEY_CONTEXT),
            **{name: getattr(device, name) for name in KEPT},
        )
        # created_at is set on insert (auto_now_add): the device's own date put back.
        sealed.objects.filter(pk=moved.pk).update(created_at=device.created_at)
    plain.objects.all().delete()


def unseal_devices(apps, schema_editor):
    from xueji.core.crypto import decrypt

    plain = apps.get_model("otp_totp", "TOTPDevice")
    sealed = apps.get_model("accounts", "Authenticator")
    for device in sealed.objects.order_by("pk").iterator():
        moved = plain.objects.create(
            user_id=device.user_id,
            key=decrypt(device.key_sealed, context=TOTP_KEY_CONTEXT),
            **{name: getattr(device, name) for name in KEPT},
        )
        plain.objects.filter(pk=moved.pk).update(created_at=device.created_at)
    sealed.objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_login_name_unique_in_any_case'),
        ('otp_totp', '0003_add_timestamps'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Authenticator',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('throttling_failure_timestamp', models.DateTimeField(blank=True, default=None, help_text='A timestamp of the last failed verification attempt. Null if last attempt succeeded.', null=True)),
                ('throttling_failure_count', models.PositiveIntegerField(default=0, help_text='Number of successive failed attempts.')),
                ('created_at', models.DateTimeField(auto_now_add=True, help_text='The date and time when this device was initially created in the system.', null=True)),
                ('last_used_at', models.DateTimeField(blank=True, help_text='The most recent date and time this device was used.', null=True)),
                ('name', models.CharField(help_text='The human-readable name of this device.', max_length=64)),
                ('confirmed', models.BooleanField(default=True, help_text='Is this device ready for use?')),
                ('key_sealed', models.TextField(editable=False)),
                ('step', models.PositiveSmallIntegerField(default=30)),
                ('t0', models.BigIntegerField(default=0)),
                ('digits', models.PositiveSmallIntegerField(default=6)),
                ('tolerance', models.PositiveSmallIntegerField(default=1)),
                ('drift', models.SmallIntegerField(default=0)),
                ('last_t', models.BigIntegerField(default=-1)),
                ('user', models.ForeignKey(help_text='The user that this device belongs to.', on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'Authenticator',
                'abstract': False,
            },
        ),
        migrations.RunPython(seal_devices, unseal_devices),
    ]
