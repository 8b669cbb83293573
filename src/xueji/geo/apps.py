from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "xueji.geo"
    label = "geo"
