"""The table the tests (and `herald dev`) create is the schema infra deploys: `herald.names`."""

from __future__ import annotations

from herald import names
from herald.dev.local.resources import LocalResources
from herald.logic.services import Services


def test_the_table_has_the_schemas_key_indexes_and_ttl(services: Services, resources: LocalResources) -> None:
    ddb = services.table.ddb
    table = ddb.describe_table(TableName=resources.table_name)["Table"]
    ttl = ddb.describe_time_to_live(TableName=resources.table_name)["TimeToLiveDescription"]

    assert tuple(k["AttributeName"] for k in table["KeySchema"]) == names.TABLE_KEY
    assert {
        (i["IndexName"], *(k["AttributeName"] for k in i["KeySchema"]), i["Projection"]["ProjectionType"])
        for i in table["GlobalSecondaryIndexes"]
    } == {(*index, "ALL") for index in names.TABLE_INDEXES}
    assert ttl["AttributeName"] == names.TABLE_TTL_ATTRIBUTE
