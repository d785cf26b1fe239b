package io.capstan.broker.kafka;

import io.capstan.broker.security.AclStore;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.CreateAclsResponseData;
import org.apache.kafka.common.message.CreateAclsResponseData.AclCreationResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.CreateAclsRequest;

/** CreateAcls (kafka-acls --add, AdminClient.createAcls): needs ALTER on the cluster; SECURITY_DISABLED without an authorizer. */
public final class CreateAclsHandler implements ApiHandler {
    private final AclStore acls;

    public CreateAclsHandler(AclStore acls) {
        this.acls = acls;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        CreateAclsRequestData request = (CreateAclsRequestData) message;
        CreateAclsResponseData response = new CreateAclsResponseData();
        AclFilters.Refusal refused = AclFilters.refusal(context, AclOperation.ALTER);
        for (CreateAclsRequestData.AclCreation creation : request.creations()) {
            AclCreationResult result = new AclCreationResult();
            response.results().add(result);
            if (refused != null) {
                result.setErrorCode(refused.error().code()).setErrorMessage(refused.message());
                continue;
            }
            AclBinding binding;
            String problem;
            try {
                binding = CreateAclsRequest.aclBinding(creation);
                problem = AclFilters.problem(binding);
            } catch (IllegalArgumentException e) {
                binding = null;
                problem = e.getMessage();
            }
            if (problem != null) {
                result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(problem);
                continue;
            }
            try {
                acls.create(binding);
            } catch (RuntimeException e) {
                result.setErrorCode(Errors.UNKNOWN_SERVER_ERROR.code()).setErrorMessage("the metadata store refused the ACL: " + e.getMessage() + "; retry");
            }
        }
        return CompletableFuture.completedFuture(response);
    }
}
