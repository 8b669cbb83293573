import pytest
from django.test import Client
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def document():
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def test_the_openapi_document_is_served_and_valid(document):
    validate(document)
    assert document["openapi"].startswith("3.")
    assert {
        "/api/divisions",
        "/api/divisions/{code}",
        "/api/schools",
        "/api/schools/{school_id}",
        "/api/classes/{class_id}",
        "/api/students",
        "/api/students/lookup",
        "/api/students/{student_id}",
        "/api/students/{student_id}/resident-id",
    } <= set(document["paths"])


def test_every_operation_requires_a_token_or_a_session(document):
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"} in schemes.values()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("security"), (method, path)


def test_students_are_addressed_by_uuid_and_never_by_a_number(document):
    for path, operations in document["paths"].items():
        assert "number" not in path
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and path.startswith("/api/students"):
                    assert parameter["schema"]["format"] == "uuid"
                if parameter["in"] == "query":
                    assert "number" not in parameter["name"]


def test_errors_are_documented_with_the_error_shape(document):
    register = document["paths"]["/api/students"]["post"]
    assert {"201", "400", "401", "404", "409", "422"} <= set(register["responses"])
    conflict = register["responses"]["409"]["content"]["application/json"]["schema"]
    assert conflict["$ref"].endswith("/ErrorOut")
    error = document["components"]["schemas"]["ErrorOut"]
    assert {"code", "message"} <= set(error["required"])
