from django.contrib import admin
from django.urls import path

admin.site.site_header = "devskyy operations"
admin.site.site_title = "devskyy"
admin.site.index_title = "System of record"

urlpatterns = [
    path("admin/", admin.site.urls),
]
