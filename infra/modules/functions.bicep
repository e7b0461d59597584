metadata description = 'The memory pipeline Function app: Flex Consumption (FC1), Python 3.11, identity-based storage, Log Analytics and Application Insights.'

@description('Region of every resource of the module.')
param location string

@description('Tags of every resource; the app also gets azd-service-name.')
param tags object = {}

@description('Service name in azure.yaml; azd deploys to the app tagged with it.')
param serviceName string

@description('Name of the Function app.')
param appName string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Name of the storage account (3-24 lowercase letters and digits).')
param storageAccountName string

@description('Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Name of the Application Insights component.')
param appInsightsName string

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity.')
param identityClientId string

@description('Cosmos DB account endpoint.')
param cosmosEndpoint string

@description('Cosmos DB database name.')
param cosmosDatabaseName string

@description('Azure OpenAI endpoint of the AI Services account.')
param aiEndpoint string

@description('Chat model deployment name.')
param chatDeploymentName string

@description('Embedding model deployment name.')
param embeddingDeploymentName string

@description('Embedding dimensions (the containers\' vector policies use the same).')
param embeddingDimensions int

@description('Vector index type of the containers.')
param vectorIndexType string

@description('Default TTL of the turns container in seconds; empty when turns never expire.')
param turnsTtlSeconds string

@description('Default TTL of the counters container in seconds; empty when counters never expire.')
param countersTtlSeconds string

@description('Extract memories every N turns of a thread (0 disables).')
param factExtractionEveryN int

@description('Reconcile a user\'s memories every N extractions (0 disables).')
param dedupEveryN int

@description('Recent memories a reconcile compares.')
param dedupPoolSize int

@description('Summarize a thread every N of its turns (0 disables).')
param threadSummaryEveryN int

@description('Rewrite the user profile every N turns of the user (0 disables).')
param userSummaryEveryN int

@description('Upper bound of instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

var deploymentContainerName = 'app-package'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    dnsEndpointType: 'Standard'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }

  resource blobs 'blobServices' = {
    name: 'default'

    resource deployments 'containers' = {
      name: deploymentContainerName
    }
  }
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

var appSettings = {
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  COSMOS_DB__accountEndpoint: cosmosEndpoint
  COSMOS_DB__credential: 'managedidentity'
  COSMOS_DB__clientId: identityClientId
  COSMOS_DB_DATABASE_NAME: cosmosDatabaseName
  COSMOS_DB_CREATE_LEASE_CONTAINER: 'false'
  COSMOS_DB_ENDPOINT: cosmosEndpoint
  COSMOS_DB_DATABASE: cosmosDatabaseName
  COSMOS_DB_VECTOR_INDEX_TYPE: vectorIndexType
  COSMOS_DB_TURNS_TTL_SECONDS: turnsTtlSeconds
  COSMOS_DB_COUNTERS_TTL_SECONDS: countersTtlSeconds
  AZURE_CLIENT_ID: identityClientId
  AI_FOUNDRY_ENDPOINT: aiEndpoint
  AI_FOUNDRY_CHAT_DEPLOYMENT_NAME: chatDeploymentName
  AI_FOUNDRY_EMBEDDING_DEPLOYMENT_NAME: embeddingDeploymentName
  AGENT_MEMORY_EMBEDDINGS: 'azure'
  EMBEDDING_DIMENSIONS: string(embeddingDimensions)
  MEMORY_PROCESSOR_OWNER: 'durable'
  FACT_EXTRACTION_EVERY_N: string(factExtractionEveryN)
  DEDUP_EVERY_N: string(dedupEveryN)
  DEDUP_POOL_SIZE: string(dedupPoolSize)
  THREAD_SUMMARY_EVERY_N: string(threadSummaryEveryN)
  USER_SUMMARY_EVERY_N: string(userSummaryEveryN)
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: appSettings
}

output appName string = app.name
output storageAccountName string = storage.name
output appInsightsName string = appInsights.name
