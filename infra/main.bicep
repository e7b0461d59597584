targetScope = 'subscription'

metadata description = 'agent-memory on Azure: Cosmos DB, AI Services with two model deployments and the memory pipeline Function app.'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; the resource group and the unique token derive from it.')
param environmentName string

@minLength(1)
@description('Region of every resource: one that offers gpt-4.1-mini (2025-04-14) and text-embedding-3-large (1) as Global Standard deployments and hosts Flex Consumption apps.')
@allowed([
  'australiaeast'
  'brazilsouth'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'westeurope'
  'westus'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
    usageName: [
      'OpenAI.GlobalStandard.gpt-4.1-mini,30'
      'OpenAI.GlobalStandard.text-embedding-3-large,30'
    ]
  }
})
param location string

@description('Object id of the deploying user (azd sets AZURE_PRINCIPAL_ID); it gets data access to Cosmos DB and the models. Empty skips it.')
param principalId string = ''

@description('Principal type of principalId: User, or ServicePrincipal in CI.')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Deploy the Function app (the durable pipeline). false provisions only what the SDK needs: Cosmos DB, the models and the deploying user roles.')
param deployFunctionApp bool = true

@description('Cosmos DB capacity: serverless (default, nothing to pay at idle) or provisioned (autoscale throughput dedicated to each container: vector search is not supported on shared-throughput databases).')
@allowed([
  'serverless'
  'provisioned'
])
param cosmosCapacityMode string = 'serverless'

@description('Autoscale maximum RU/s of each container when cosmosCapacityMode is provisioned.')
@minValue(1000)
param cosmosAutoscaleMaxThroughput int = 1000

@description('Embedding dimensions of the vector policies and the SDK; 0 keeps the default of sdk/agent_memory/stores/cosmos/containers.json.')
@minValue(0)
@maxValue(3072)
param embeddingDimensions int = 0

@description('Vector index type of the containers; empty keeps the default of sdk/agent_memory/stores/cosmos/containers.json.')
@allowed([
  ''
  'quantizedFlat'
  'diskANN'
])
param vectorIndexType string = ''

@description('Default TTL of the turns container in seconds; 0 keeps the default of sdk/agent_memory/stores/cosmos/containers.json (turns never expire).')
@minValue(0)
param turnsTtlSeconds int = 0

@description('Default TTL of the counters container (counters, watermarks, usage ledger) in seconds; 0 keeps the default of sdk/agent_memory/stores/cosmos/containers.json (never). Needs a turns TTL at most as long.')
@minValue(0)
param countersTtlSeconds int = 0

@description('Chat model, also the name of its deployment.')
param chatModelName string = 'gpt-4.1-mini'

@description('Version of the chat model.')
param chatModelVersion string = '2025-04-14'

@description('Chat deployment capacity, in thousands of tokens per minute.')
@minValue(1)
param chatCapacity int = 30

@description('Embedding model, also the name of its deployment.')
param embeddingModelName string = 'text-embedding-3-large'

@description('Version of the embedding model.')
param embeddingModelVersion string = '1'

@description('Embedding deployment capacity, in thousands of tokens per minute.')
@minValue(1)
param embeddingCapacity int = 30

@description('Deployment type of both model deployments. The location allow list and the azd quota check (usageName) are those of Global Standard; another type needs both changed with it.')
@allowed([
  'GlobalStandard'
])
param modelSkuName string = 'GlobalStandard'

@description('Extract memories every N turns of a thread (0 disables).')
@minValue(0)
param factExtractionEveryN int = 1

@description('Reconcile a user\'s memories every N extractions (0 disables).')
@minValue(0)
param dedupEveryN int = 5

@description('Recent memories a reconcile compares.')
@minValue(2)
@maxValue(500)
param dedupPoolSize int = 50

@description('Summarize a thread every N of its turns (0 disables).')
@minValue(0)
param threadSummaryEveryN int = 10

@description('Rewrite the user profile every N turns of the user (0 disables).')
@minValue(0)
param userSummaryEveryN int = 20

@description('Upper bound of Function app instances.')
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int = 40

@description('Memory of each Function app instance.')
@allowed([
  512
  2048
  4096
])
param functionInstanceMemoryMB int = 2048

var serviceName = 'pipeline'
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var names = {
  resourceGroup: 'rg-${environmentName}'
  identity: 'id-${resourceToken}'
  cosmos: 'cosmos-${resourceToken}'
  ai: 'ai-${resourceToken}'
  storage: 'st${resourceToken}'
  logAnalytics: 'log-${resourceToken}'
  appInsights: 'appi-${resourceToken}'
  plan: 'plan-${resourceToken}'
  functionApp: 'func-${resourceToken}'
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = if (deployFunctionApp) {
  name: 'identity'
  scope: rg
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: names.cosmos
    location: location
    tags: tags
    capacityMode: cosmosCapacityMode
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    embeddingDimensions: embeddingDimensions
    vectorIndexType: vectorIndexType
    turnsTtlSeconds: turnsTtlSeconds
    turnsContainerName: 'memories_turns'
    countersTtlSeconds: countersTtlSeconds
    countersContainerName: 'memories_counters'
    createLeaseContainer: deployFunctionApp
    leaseContainerName: 'leases'
  }
}

module ai 'modules/ai.bicep' = {
  name: 'ai'
  scope: rg
  params: {
    name: names.ai
    location: location
    tags: tags
    chatModelName: chatModelName
    chatModelVersion: chatModelVersion
    chatCapacity: chatCapacity
    embeddingModelName: embeddingModelName
    embeddingModelVersion: embeddingModelVersion
    embeddingCapacity: embeddingCapacity
    skuName: modelSkuName
  }
}

module functions 'modules/functions.bicep' = if (deployFunctionApp) {
  name: 'functions'
  scope: rg
  params: {
    location: location
    tags: tags
    serviceName: serviceName
    appName: names.functionApp
    planName: names.plan
    storageAccountName: names.storage
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    identityId: deployFunctionApp ? identity.outputs.id : ''
    identityClientId: deployFunctionApp ? identity.outputs.clientId : ''
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    aiEndpoint: ai.outputs.endpoint
    chatDeploymentName: ai.outputs.chatDeploymentName
    embeddingDeploymentName: ai.outputs.embeddingDeploymentName
    embeddingDimensions: cosmos.outputs.embeddingDimensions
    vectorIndexType: cosmos.outputs.vectorIndexType
    turnsTtlSeconds: cosmos.outputs.turnsTtlSeconds
    countersTtlSeconds: cosmos.outputs.countersTtlSeconds
    factExtractionEveryN: factExtractionEveryN
    dedupEveryN: dedupEveryN
    dedupPoolSize: dedupPoolSize
    threadSummaryEveryN: threadSummaryEveryN
    userSummaryEveryN: userSummaryEveryN
    maximumInstanceCount: functionMaximumInstanceCount
    instanceMemoryMB: functionInstanceMemoryMB
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    cosmosAccountName: cosmos.outputs.name
    aiAccountName: ai.outputs.name
    appDeployed: deployFunctionApp
    identityPrincipalId: deployFunctionApp ? identity.outputs.principalId : ''
    storageAccountName: deployFunctionApp ? functions.outputs.storageAccountName : names.storage
    appInsightsName: deployFunctionApp ? functions.outputs.appInsightsName : names.appInsights
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = deployFunctionApp ? functions.outputs.appName : ''
output COSMOS_DB_ENDPOINT string = cosmos.outputs.endpoint
output COSMOS_DB_DATABASE string = cosmos.outputs.databaseName
output COSMOS_DB_VECTOR_INDEX_TYPE string = cosmos.outputs.vectorIndexType
output COSMOS_DB_TURNS_TTL_SECONDS string = cosmos.outputs.turnsTtlSeconds
output COSMOS_DB_COUNTERS_TTL_SECONDS string = cosmos.outputs.countersTtlSeconds
output AI_FOUNDRY_ENDPOINT string = ai.outputs.endpoint
output AI_FOUNDRY_CHAT_DEPLOYMENT_NAME string = ai.outputs.chatDeploymentName
output AI_FOUNDRY_EMBEDDING_DEPLOYMENT_NAME string = ai.outputs.embeddingDeploymentName
output AGENT_MEMORY_EMBEDDINGS string = 'azure'
output EMBEDDING_DIMENSIONS int = cosmos.outputs.embeddingDimensions
output MEMORY_PROCESSOR_OWNER string = deployFunctionApp ? 'durable' : 'inprocess'
output FACT_EXTRACTION_EVERY_N int = factExtractionEveryN
output DEDUP_EVERY_N int = dedupEveryN
output DEDUP_POOL_SIZE int = dedupPoolSize
output THREAD_SUMMARY_EVERY_N int = threadSummaryEveryN
output USER_SUMMARY_EVERY_N int = userSummaryEveryN
