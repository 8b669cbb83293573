from ninja import NinjaAPI

api = NinjaAPI(title="Xueji API", version="1", urls_namespace="api")
