package io.capstan.broker.kafka;

import io.capstan.broker.security.AclStore;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeAclsRequestData;
import org.apache.kafka.common.message.DescribeAclsResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeAclsResponse;

/** DescribeAcls (kafka-acls --list): the ACLs matching a filter; needs DESCRIBE on the cluster. */
public final class DescribeAclsHandler implements ApiHandler {
    private final AclStore acls;

    public DescribeAclsHandler(AclStore acls) {
        this.acls = acls;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        DescribeAclsRequestData r = (DescribeAclsRequestData) message;
        DescribeAclsResponseData response = new DescribeAclsResponseData();
        AclFilters.Refusal refused = AclFilters.refusal(context, AclOperation.DESCRIBE);
        if (refused != null) {
            return done(response.setErrorCode(refused.error().code()).setErrorMessage(refused.message()));
        }
        AclBindingFilter filter = AclFilters.filter(r.resourceTypeFilter(), r.resourceNameFilter(), r.patternTypeFilter(),
                r.principalFilter(), r.hostFilter(), r.operation(), r.permissionType());
        if (filter.isUnknown()) {
            return done(response.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("the filter has an unknown value"));
        }
        return done(response.setResources(DescribeAclsResponse.aclsResources(acls.describe(filter))));
    }

    private static CompletionStage<ApiMessage> done(DescribeAclsResponseData response) {
        return CompletableFuture.completedFuture(response);
    }
}
