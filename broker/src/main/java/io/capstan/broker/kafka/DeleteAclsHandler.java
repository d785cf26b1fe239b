package io.capstan.broker.kafka;

import io.capstan.broker.security.AclStore;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DeleteAclsRequestData;
import org.apache.kafka.common.message.DeleteAclsResponseData;
import org.apache.kafka.common.message.DeleteAclsResponseData.DeleteAclsFilterResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.DeleteAclsResponse;

/** DeleteAcls (kafka-acls --remove): every ACL each filter matches; needs ALTER on the cluster. */
public final class DeleteAclsHandler implements ApiHandler {
    private final AclStore acls;

    public DeleteAclsHandler(AclStore acls) {
        this.acls = acls;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        DeleteAclsRequestData request = (DeleteAclsRequestData) message;
        DeleteAclsResponseData response = new DeleteAclsResponseData();
        AclFilters.Refusal refused = AclFilters.refusal(context, AclOperation.ALTER);
        for (DeleteAclsRequestData.DeleteAclsFilter f : request.filters()) {
            DeleteAclsFilterResult result = new DeleteAclsFilterResult();
            response.filterResults().add(result);
            if (refused != null) {
                result.setErrorCode(refused.error().code()).setErrorMessage(refused.message());
                continue;
            }
            AclBindingFilter filter = AclFilters.filter(f.resourceTypeFilter(), f.resourceNameFilter(), f.patternTypeFilter(),
                    f.principalFilter(), f.hostFilter(), f.operation(), f.permissionType());
            if (filter.isUnknown()) {
                result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("the filter has an unknown value");
                continue;
            }
            for (AclBinding deleted : acls.delete(filter)) {
                result.matchingAcls().add(DeleteAclsResponse.matchingAcl(deleted, ApiError.NONE));
            }
        }
        return CompletableFuture.completedFuture(response);
    }
}
