metadata description = 'The user-assigned managed identity of the Function app.'

@description('Name of the identity.')
param name string

@description('Region of the identity.')
param location string

@description('Tags of the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id, for identity blocks and the deployment storage authentication.')
output id string = identity.id

@description('Client id, for AZURE_CLIENT_ID and the identity-based connections.')
output clientId string = identity.properties.clientId

@description('Object (principal) id, for role assignments.')
output principalId string = identity.properties.principalId

output name string = identity.name
