"""Who sees a project's pages: members read, admins change, everyone else gets 404."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from apikeys.dashboard.access import (
    project_access,
    project_admin_required,
    project_member_required,
    user_projects,
)

pytestmark = pytest.mark.django_db


def page_urls(key_id: str) -> list[str]:
    base = "/projects/acme/admin/api-keys/"
    return [
        "/projects/acme/admin/",
        base,
        f"{base}new/",
        f"{base}new/somewizardid/details/",
        f"{base}{key_id}/",
        f"{base}{key_id}/edit/",
        f"{base}{key_id}/deactivate/",
        f"{base}{key_id}/reactivate/",
        f"{base}{key_id}/delete/",
    ]


POST_URLS = [
    "new/somewizardid/details/",
    "{k}/edit/",
    "{k}/deactivate/",
    "{k}/reactivate/",
    "{k}/delete/",
]


@pytest.fixture
def key(project, make_key):
    return make_key(project, name="deploy")[0]


def test_outsider_gets_404_on_every_project_page(client, make_user, key, other_project):
    outsider = make_user("mallory", project=other_project, role="admin")
    client.force_login(outsider)
    for url in page_urls(key.key_id):
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code in (404, 405), url


def test_unknown_project_is_the_same_404_as_a_foreign_one(client, admin_user, key):
    client.force_login(admin_user)
    for url in page_urls(key.key_id):
        foreign = url.replace("/projects/acme/", "/projects/nope/")
        assert client.get(foreign).status_code == 404, foreign


def test_another_projects_key_id_is_404(client, make_user, make_key, other_project, project):
    admin = make_user("olga", project=project, role="admin")
    foreign_key = make_key(other_project, name="theirs")[0]
    client.force_login(admin)
    assert client.get(f"/projects/acme/admin/api-keys/{foreign_key.key_id}/").status_code == 404
    response = client.post(f"/projects/acme/admin/api-keys/{foreign_key.key_id}/deactivate/")
    assert response.status_code == 404
    foreign_key.refresh_from_db()
    assert foreign_key.is_active


def test_anonymous_is_sent_to_login(client, key):
    for url in page_urls(key.key_id):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


@pytest.mark.parametrize("path", POST_URLS)
def test_auditor_is_refused_with_403_on_every_post(client, auditor_user, key, path):
    client.force_login(auditor_user)
    url = "/projects/acme/admin/api-keys/" + path.format(k=key.key_id)
    response = client.post(
        url, {"name": "x", "confirm_name": key.name, "permissions": ["project:read-runs"]}
    )
    assert response.status_code == 403
    key.refresh_from_db()
    assert key.is_active and key.name == "deploy"


def test_auditor_reads_the_list_and_the_detail_without_action_buttons(client, auditor_user, key):
    client.force_login(auditor_user)
    listing = client.get("/projects/acme/admin/api-keys/")
    detail = client.get(f"/projects/acme/admin/api-keys/{key.key_id}/")
    assert listing.status_code == detail.status_code == 200
    assert b"Create API key" not in listing.content
    for label in (b">Deactivate<", b">Delete<", b">Edit<"):
        assert label not in detail.content
    assert client.get("/projects/acme/admin/api-keys/new/").status_code == 403


def test_superuser_acts_as_admin_without_a_membership(client, django_user_model, key):
    root = django_user_model.objects.create_superuser("root", password="pw-root-123456")
    client.force_login(root)
    detail = client.get(f"/projects/acme/admin/api-keys/{key.key_id}/")
    assert detail.status_code == 200
    assert b">Deactivate<" in detail.content


def test_project_access_gives_the_role(project, admin_user, auditor_user, make_user):
    assert project_access(admin_user, "acme").can_manage
    assert not project_access(auditor_user, "acme").can_manage
    with pytest.raises(Http404):
        project_access(make_user("nobody"), "acme")


def test_decorators_pass_access_and_refuse_auditors(project, admin_user, auditor_user):
    def view(request, access):
        return HttpResponse(access.role)

    member_view = project_member_required(view)
    admin_view = project_admin_required(view)
    request = RequestFactory().get("/")
    request.user = auditor_user
    assert member_view(request, "acme").content == b"auditor"
    with pytest.raises(PermissionDenied):
        admin_view(request, "acme")
    request.user = admin_user
    assert admin_view(request, "acme").content == b"admin"


def test_home_goes_to_the_only_project_or_the_list(client, admin_user, other_project):
    client.force_login(admin_user)
    assert client.get("/")["Location"] == "/projects/acme/admin/api-keys/"
    from apikeys.models import Membership

    Membership.objects.create(project=other_project, user=admin_user, role="auditor")
    assert client.get("/")["Location"] == "/projects/"
    page = client.get("/projects/").content.decode()
    assert "Acme" in page and "Other" in page and "Auditor" in page


def test_login_page_and_logout_by_post(client, admin_user):
    assert client.get("/accounts/login/").status_code == 200
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/projects/acme/admin/api-keys/").status_code == 302


def test_refusals_are_pages_that_say_what_to_do(client, auditor_user, make_user, make_key, project):
    key, _ = make_key(project)
    client.force_login(auditor_user)
    refused = client.post(f"/projects/{project.slug}/admin/api-keys/{key.key_id}/deactivate/")
    assert refused.status_code == 403
    body = refused.content.decode()
    assert "Ask one of the project's admins to make the change" in body
    assert body.count("Auditors can read") == 1  # the reason, said once
    client.force_login(make_user("outsider"))
    missing = client.get(f"/projects/{project.slug}/admin/api-keys/")
    assert missing.status_code == 404
    assert "not a member of" in missing.content.decode()


def test_user_projects_lists_roles(project, other_project, admin_user):
    from apikeys.models import Membership

    Membership.objects.create(project=other_project, user=admin_user, role="auditor")
    roles = {a.project.slug: a.role for a in user_projects(admin_user)}
    assert roles == {"acme": "admin", "other": "auditor"}
