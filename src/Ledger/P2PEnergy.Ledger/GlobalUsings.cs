// Both the matching core and the Ethereum layer have an Address type: here "Address" is the Ethereum
// one (contract, accounts); participants' addresses inside a Lot are the core's ParticipantAddress.
global using P2PEnergy.Ethereum;
global using EnergySource = P2PEnergy.Exchange.EnergySource;
global using Lot = P2PEnergy.Exchange.Lot;
global using ParticipantAddress = P2PEnergy.Exchange.Address;
global using Product = P2PEnergy.Exchange.Product;
