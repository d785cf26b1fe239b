package io.capstan.broker.group;

import java.util.List;

/** A consistent snapshot of a group for DescribeGroups, ListGroups and metrics. */
public record GroupView(String groupId, GroupState state, int generation, String protocolType, String protocolName,
                        String leaderId, List<MemberView> members, long lastRebalanceMs) {

    public record MemberView(String memberId, String instanceId, String clientId, String clientHost,
                             byte[] metadata, byte[] assignment) {}
}
