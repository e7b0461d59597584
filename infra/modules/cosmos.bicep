metadata description = 'Cosmos DB for NoSQL: the account, its database and every container of sdk/agent_memory/stores/cosmos/containers.json.'

@description('Name of the account (globally unique).')
param name string

@description('Region of the account.')
param location string

@description('Tags of the account.')
param tags object = {}

@description('serverless: pay per request, nothing at idle. provisioned: autoscale throughput dedicated to each container (vector search is not supported on shared-throughput databases, so the database has none).')
@allowed([
  'serverless'
  'provisioned'
])
param capacityMode string = 'serverless'

@description('Autoscale maximum RU/s of each container when capacityMode is provisioned.')
@minValue(1000)
param autoscaleMaxThroughput int = 1000

@description('Dimensions of every vector embedding policy; 0 keeps the default of containers.json.')
@minValue(0)
@maxValue(4096)
param embeddingDimensions int = 0

@description('Type of every vector index; empty keeps the default of containers.json.')
@allowed([
  ''
  'quantizedFlat'
  'diskANN'
])
param vectorIndexType string = ''

@description('Default TTL of the turns container in seconds; 0 keeps the default of containers.json.')
@minValue(0)
param turnsTtlSeconds int = 0

@description('Id of the turns container, the one whose default TTL turnsTtlSeconds sets.')
param turnsContainerName string

@description('Default TTL of the counters container in seconds; 0 keeps the default of containers.json.')
@minValue(0)
param countersTtlSeconds int = 0

@description('Id of the counters container, the one whose default TTL countersTtlSeconds sets.')
param countersContainerName string

@description('Create the lease container of the change-feed trigger (identity-based connections cannot create it).')
param createLeaseContainer bool = false

@description('Id of the lease container.')
param leaseContainerName string

var definitions = any(loadJsonContent('../../sdk/agent_memory/stores/cosmos/containers.json'))
var defaults = definitions.parameters
var databaseName = definitions.database
var dimensions = embeddingDimensions > 0 ? embeddingDimensions : defaults.embeddingDimensions
var indexType = empty(vectorIndexType) ? defaults.vectorIndexType : vectorIndexType
var turnsTtl = turnsTtlSeconds > 0 ? turnsTtlSeconds : defaults.turnsTtlSeconds
var countersTtl = countersTtlSeconds > 0 ? countersTtlSeconds : defaults.countersTtlSeconds
var serverless = capacityMode == 'serverless'
// Options of every container: in provisioned mode its own autoscale throughput.
var containerOptions = serverless ? {} : {
  autoscaleSettings: {
    maxThroughput: autoscaleMaxThroughput
  }
}
var capabilities = concat(
  [
    { name: 'EnableNoSQLVectorSearch' }
    { name: 'EnableNoSQLFullTextSearch' }
  ],
  serverless ? [{ name: 'EnableServerless' }] : []
)

resource account 'Microsoft.DocumentDB/databaseAccounts@2025-10-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: capabilities
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
    enableAutomaticFailover: false
    enableFreeTier: false
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2025-10-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    options: {}
  }
}

resource containers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2025-10-15' = [for c in definitions.containers: {
  parent: database
  name: c.id
  properties: {
    resource: union(
      c.id == turnsContainerName || c.id == countersContainerName ? toObject(filter(items(c), e => e.key != 'defaultTtl'), e => e.key, e => e.value) : c,
      contains(c, 'vectorEmbeddingPolicy') ? {
        vectorEmbeddingPolicy: {
          vectorEmbeddings: map(c.vectorEmbeddingPolicy.vectorEmbeddings, v => union(v, { dimensions: dimensions }))
        }
        indexingPolicy: union(c.indexingPolicy, {
          vectorIndexes: map(c.indexingPolicy.?vectorIndexes ?? [], i => union(i, { type: indexType }))
        })
      } : {},
      c.id == turnsContainerName && turnsTtl != null ? { defaultTtl: turnsTtl } : {},
      c.id == countersContainerName && countersTtl != null ? { defaultTtl: countersTtl } : {}
    )
    options: containerOptions
  }
}]

resource leases 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2025-10-15' = if (createLeaseContainer) {
  parent: database
  name: leaseContainerName
  properties: {
    resource: {
      id: leaseContainerName
      partitionKey: {
        paths: [
          '/id'
        ]
        kind: 'Hash'
      }
    }
    options: containerOptions
  }
}

output name string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
output embeddingDimensions int = dimensions
output vectorIndexType string = indexType
@description('Default TTL of the turns container in seconds, empty when turns never expire.')
output turnsTtlSeconds string = turnsTtl == null ? '' : string(turnsTtl)
@description('Default TTL of the counters container in seconds, empty when counters never expire.')
output countersTtlSeconds string = countersTtl == null ? '' : string(countersTtl)
