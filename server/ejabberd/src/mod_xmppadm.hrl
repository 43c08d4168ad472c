%%% Shared definitions of mod_xmppadm's source files.

-define(NS_XMPPADM, <<"urn:xmppadm:admin:1">>).
%% The contract revision this module implements (#about's module-version).
-define(XMPPADM_CONTRACT_VERSION, <<"3">>).

%% One blocked range of one virtual host, as stored (Mnesia or SQL).
%% cidr is the normalised "network/prefix"; times are Unix seconds.
-record(xmppadm_block, {host_cidr :: {binary(), binary()},
                        expires :: undefined | integer(),
                        reason = <<>> :: binary(),
                        created :: integer()}).
