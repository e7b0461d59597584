metadata description = 'AI Services (AI Foundry) account with a chat and an embedding model deployment; Entra ID only.'

@description('Name of the account; also its custom subdomain (globally unique).')
param name string

@description('Region of the account.')
param location string

@description('Tags of the account.')
param tags object = {}

@description('Chat model; the deployment has the same name.')
param chatModelName string

@description('Version of the chat model.')
param chatModelVersion string

@description('Chat deployment capacity in thousands of tokens per minute.')
@minValue(1)
param chatCapacity int

@description('Embedding model; the deployment has the same name.')
param embeddingModelName string

@description('Version of the embedding model.')
param embeddingModelVersion string

@description('Embedding deployment capacity in thousands of tokens per minute.')
@minValue(1)
param embeddingCapacity int

@description('Deployment type (SKU) of both deployments.')
@allowed([
  'GlobalStandard'
  'DataZoneStandard'
  'Standard'
])
param skuName string = 'GlobalStandard'

resource account 'Microsoft.CognitiveServices/accounts@2025-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'AIServices'
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: name
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
    }
  }
}

resource chat 'Microsoft.CognitiveServices/accounts/deployments@2025-06-01' = {
  parent: account
  name: chatModelName
  sku: {
    name: skuName
    capacity: chatCapacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: chatModelName
      version: chatModelVersion
    }
    versionUpgradeOption: 'OnceCurrentVersionExpired'
  }
}

resource embedding 'Microsoft.CognitiveServices/accounts/deployments@2025-06-01' = {
  parent: account
  name: embeddingModelName
  dependsOn: [
    chat
  ]
  sku: {
    name: skuName
    capacity: embeddingCapacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: embeddingModelName
      version: embeddingModelVersion
    }
    versionUpgradeOption: 'OnceCurrentVersionExpired'
  }
}

output name string = account.name
@description('The Azure OpenAI endpoint of the account (AI_FOUNDRY_ENDPOINT).')
output endpoint string = account.properties.endpoints['OpenAI Language Model Instance API']
output chatDeploymentName string = chat.name
output embeddingDeploymentName string = embedding.name
